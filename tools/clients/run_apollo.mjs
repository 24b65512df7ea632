// Test driver for apollo.mjs (tests/clients/): runs it against API_URL and prints JSON.
import { gql } from "@apollo/client";
import { createMovierecClient, memoryTokenStore, signIn } from "./apollo.mjs";

const requests = [];
const recordingFetch = (url, init = {}) => {
  const body = init.body ? JSON.parse(init.body) : {};
  const query = new URL(url).searchParams;
  requests.push({
    operation: body.operationName ?? query.get("operationName") ?? "(refresh)",
    method: init.method ?? "GET",
    withQuery: Boolean(body.query ?? query.get("query")),
    persisted: Boolean(body.extensions?.persistedQuery ?? query.get("extensions")),
  });
  return fetch(url, init);
};

const store = memoryTokenStore();
const client = createMovierecClient({ url: process.env.API_URL, store, fetch: recordingFetch });
await signIn(client, store, process.env.API_USERNAME, process.env.API_PASSWORD);
const signedInRefresh = store.get().refresh;

const ME = gql`query Me { me { username } }`;
const GENRES = gql`query Genres { genres { name } }`;
store.set({ ...store.get(), access: process.env.EXPIRED_ACCESS });  // as if 15 minutes passed
const me = await client.query({ query: ME, fetchPolicy: "network-only" });
const rotated = store.get().refresh !== signedInRefresh;
const first = await client.query({ query: GENRES, fetchPolicy: "network-only" });
const before = requests.length;
const second = await client.query({ query: GENRES, fetchPolicy: "network-only" });

console.log(JSON.stringify({
  me: me.data.me,
  rotated,
  genres: first.data.genres,
  sameAgain: JSON.stringify(second.data) === JSON.stringify(first.data),
  requests,
  secondRequests: requests.slice(before),
}));
