// Who is signed in: the contract's /api/v1/session (cookie + CSRF token).
import { call, get, setCsrf } from "./api.js";

function adopt(body) {
  setCsrf(body.csrf_token ?? null);
  return body.user ?? body;
}

export async function currentUser() {
  try {
    return adopt(await get("/session"));
  } catch (exc) {
    if (exc.status === 401 || exc.status === 404) return null;
    throw exc;
  }
}

export async function signIn(email, password) {
  return adopt(await call("POST", "/session", { json: { email, password } }));
}

export async function signOut() {
  await call("DELETE", "/session");
  setCsrf(null);
}

// Where a user lands after signing in.
export function home(user) {
  return user.role === "operator" ? "#/operator/tenants" : `#/t/${user.tenant_id}/dashboard`;
}
