// urql for movierec: Bearer token and one refresh on an expired token (@urql/exchange-auth).
import { Client, cacheExchange, fetchExchange, gql } from "@urql/core";
import { authExchange } from "@urql/exchange-auth";

const REFRESH = `mutation($refresh: String!) { refreshToken(refresh: $refresh) { access refresh } }`;

// Keep tokens in memory (plus secure storage on mobile); any object with get()/set() works.
export function memoryTokenStore(initial = {}) {
  let tokens = { ...initial };
  return { get: () => tokens, set: (next) => { tokens = { ...next }; } };
}

const isExpired = (error) =>
  error.graphQLErrors.some(
    (e) => e.extensions?.code === "UNAUTHENTICATED" && e.extensions?.reason === "expired",
  );

export function createMovierecClient({ url, store, fetch: fetchImpl = globalThis.fetch }) {
  return new Client({
    url,
    fetch: fetchImpl,
    preferGetMethod: false,
    exchanges: [
      cacheExchange,
      authExchange(async (utils) => ({
        addAuthToOperation(operation) {
          const { access } = store.get();
          return access ? utils.appendHeaders(operation, { Authorization: `Bearer ${access}` }) : operation;
        },
        didAuthError: isExpired,
        async refreshAuth() {
          // A plain request: the expired access token must not ride along.
          const response = await fetchImpl(url, {
            method: "POST",
            headers: { "Content-Type": "application/json" },
            body: JSON.stringify({ query: REFRESH, variables: { refresh: store.get().refresh } }),
          });
          const body = await response.json();
          store.set(body.data?.refreshToken ?? {});  // rotated pair, or signed out
        },
      })),
      fetchExchange,
    ],
  });
}

export const SIGN_IN = gql`
  mutation SignIn($username: String!, $password: String!) {
    tokenAuth(username: $username, password: $password) { access refresh }
  }
`;

export async function signIn(client, store, username, password) {
  const result = await client.mutation(SIGN_IN, { username, password }).toPromise();
  if (result.error) throw result.error;
  store.set(result.data.tokenAuth);
}
