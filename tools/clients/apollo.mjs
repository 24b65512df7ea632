// Apollo Client 4 for movierec: Bearer token, one refresh on an expired token, persisted queries.
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { SetContextLink } from "@apollo/client/link/context";
import { ErrorLink } from "@apollo/client/link/error";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { CombinedGraphQLErrors } from "@apollo/client/errors";
import { from, switchMap } from "rxjs";

const REFRESH = `mutation($refresh: String!) { refreshToken(refresh: $refresh) { access refresh } }`;

// The session must not be kept in plain JS storage if you can avoid it: any store with
// get()/set() works (memory + secure cookie, Keychain/Keystore on mobile...).
export function memoryTokenStore(initial = {}) {
  let tokens = { ...initial };
  return { get: () => tokens, set: (next) => { tokens = { ...next }; } };
}

async function sha256(text) {  // Web Crypto: in browsers and in Node.js 18+
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

// One refresh at a time, shared by every request that saw the expired token.
function refresher(url, store, fetchImpl) {
  let pending = null;
  return () => {
    pending ??= (async () => {
      const response = await fetchImpl(url, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ query: REFRESH, variables: { refresh: store.get().refresh } }),
      });
      const body = await response.json();
      if (!body.data?.refreshToken) throw new Error("Session ended: sign in again.");
      store.set(body.data.refreshToken);  // refresh tokens rotate: keep the new one
    })().finally(() => { pending = null; });
    return pending;
  };
}

const isExpired = (error) =>
  CombinedGraphQLErrors.is(error) &&
  error.errors.some((e) => e.extensions?.code === "UNAUTHENTICATED" && e.extensions?.reason === "expired");

export function createMovierecClient({ url, store, fetch: fetchImpl = globalThis.fetch }) {
  const refresh = refresher(url, store, fetchImpl);
  const auth = new SetContextLink((prev) => {
    const { access } = store.get();
    return { headers: { ...prev.headers, ...(access ? { Authorization: `Bearer ${access}` } : {}) } };
  });
  const retryOnExpiry = new ErrorLink(({ error, operation, forward }) => {
    if (!isExpired(error) || operation.getContext().refreshed) return;
    operation.setContext({ refreshed: true });
    return from(refresh()).pipe(switchMap(() => forward(operation)));
  });
  const persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: true });
  const http = new HttpLink({ uri: url, fetch: fetchImpl });
  return new ApolloClient({
    link: ApolloLink.from([retryOnExpiry, auth, persisted, http]),
    cache: new InMemoryCache(),
  });
}

export const SIGN_IN = gql`
  mutation SignIn($username: String!, $password: String!) {
    tokenAuth(username: $username, password: $password) { access refresh }
  }
`;

export async function signIn(client, store, username, password) {
  const { data } = await client.mutate({ mutation: SIGN_IN, variables: { username, password } });
  store.set(data.tokenAuth);
}
