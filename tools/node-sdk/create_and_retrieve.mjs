// The official Node SDK against a server: create a session, then retrieve it, as a user's code
// would. Prints one JSON line with what came back; exits non-zero on any error.
//   DODO_BASE_URL=http://127.0.0.1:8000 DODO_PAYMENTS_API_KEY=... node create_and_retrieve.mjs
import DodoPayments from "dodopayments";

const client = new DodoPayments({
  bearerToken: process.env.DODO_PAYMENTS_API_KEY,
  baseURL: process.env.DODO_BASE_URL,
  maxRetries: 0,
});
const created = await client.checkoutSessions.create({
  product_cart: [{ product_id: process.env.DODO_PRODUCT_ID, quantity: 1 }],
});
const found = await client.checkoutSessions.retrieve(created.session_id);
let missing = null;
try {
  await client.checkoutSessions.retrieve("cks_does_not_exist");
} catch (error) {
  missing = { status: error.status, name: error.constructor.name };
}
console.log(JSON.stringify({ created, found, missing }));
