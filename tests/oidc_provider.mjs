// A real OpenID Connect provider on loopback for the desk's sign-in tests (node's oidc-provider, pinned in
// package.json). Its development sign-in form takes any password; the accounts below say who is who.
// Usage: node tests/oidc_provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI
import Provider from "oidc-provider";

const [port, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const accounts = {
  "sanna": { email: "sanna.sso@testila.example", name: "Sanna Single", preferred_username: "sanna", groups: ["desk-writers"] },
  "olli": { email: "olli.sso@testila.example", name: "Olli Outsider", preferred_username: "olli", groups: ["parking"] },
};
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    redirect_uris: [redirectUri],
    response_types: ["code"],
    grant_types: ["authorization_code"],
  }],
  claims: { openid: ["sub"], email: ["email"], profile: ["name", "preferred_username"], groups: ["groups"] },
  scopes: ["openid", "email", "profile", "groups"],
  pkce: { required: () => true },
  findAccount: async (ctx, id) => accounts[id] && { accountId: id, claims: async () => ({ sub: id, ...accounts[id] }) },
  cookies: { keys: ["newsroom-desk-test-only"] },
});
provider.listen(Number(port), "127.0.0.1", () => console.log("ready"));
