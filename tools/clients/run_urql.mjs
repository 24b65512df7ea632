// Test driver for urql.mjs (tests/clients/): runs it against API_URL and prints JSON.
import { gql } from "@urql/core";
import { createMovierecClient, memoryTokenStore, signIn } from "./urql.mjs";

const store = memoryTokenStore();
const client = createMovierecClient({ url: process.env.API_URL, store });
await signIn(client, store, process.env.API_USERNAME, process.env.API_PASSWORD);
const signedInRefresh = store.get().refresh;

store.set({ ...store.get(), access: process.env.EXPIRED_ACCESS });  // as if 15 minutes passed
const me = await client.query(gql`query Me { me { username } }`, {}).toPromise();
if (me.error) throw me.error;
const genres = await client.query(gql`query Genres { genres { name } }`, {}).toPromise();

console.log(JSON.stringify({
  me: me.data.me,
  rotated: store.get().refresh !== signedInRefresh,
  genres: genres.data.genres,
}));
