// The API with the token of the login page; a 401 sends the user back to log in.
export const token = () => sessionStorage.getItem("plantwin.token");
export const me = () => JSON.parse(sessionStorage.getItem("plantwin.user") || "null");

export function toLogin() {
  sessionStorage.removeItem("plantwin.token");
  const next = location.pathname + location.hash;
  location.assign(`/login?next=${encodeURIComponent(next)}`);
}

export class ApiError extends Error {
  constructor(status, message) { super(message); this.status = status; }
}

export async function api(path, { method = "GET", body } = {}) {
  const headers = { Authorization: `Bearer ${token()}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(`/api/v1${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) { toLogin(); throw new ApiError(401, "not logged in"); }
  const type = response.headers.get("content-type") || "";
  const data = type.includes("json") ? await response.json() : await response.text();
  if (!response.ok) {
    const message = data && data.error ? data.error.message : response.statusText;
    throw new ApiError(response.status, `${response.status}: ${message}`);
  }
  return data;
}
