// The panel's only way to the server: /api/v1, with the session cookie and, on writes,
// the CSRF token the session handed out. Errors carry the API's own message.
let csrfToken = null;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function setCsrf(token) { csrfToken = token; }

export async function call(method, path, { json, form, raw } = {}) {
  const headers = {};
  let body;
  if (json !== undefined) { headers["Content-Type"] = "application/json"; body = JSON.stringify(json); }
  if (form !== undefined) body = form;
  if (method !== "GET" && csrfToken) headers["X-CSRF-Token"] = csrfToken;
  let response;
  try {
    response = await fetch("/api/v1" + path, { method, headers, body, credentials: "same-origin" });
  } catch (exc) {
    throw new ApiError(0, "network", "");
  }
  if (!response.ok) {
    let error = { code: "error", message: response.statusText };
    try { error = (await response.json()).error || error; } catch (exc) { /* not JSON: keep the status text */ }
    throw new ApiError(response.status, error.code, error.message);
  }
  if (raw) return response;
  return response.status === 204 ? null : response.json();
}

export const get = (path) => call("GET", path);
export const post = (path, json) => call("POST", path, { json });
export const patch = (path, json) => call("PATCH", path, { json });
export const put = (path, json) => call("PUT", path, { json });
export const del = (path) => call("DELETE", path);
