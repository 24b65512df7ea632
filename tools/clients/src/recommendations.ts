// src/recommendations.ts: an operation typed by the generated `graphql()`.
import { graphql } from "./gql";
import type { RecommendationsQuery, RecommendationsQueryVariables } from "./gql/graphql";

export const Recommendations = graphql(`
  query Recommendations($first: Int!, $offset: Int) {
    recommendations(first: $first, offset: $offset) {
      score
      source
      reason
      movie { id title releaseDate inWatchlist }
    }
  }
`);

export const secondPage: RecommendationsQueryVariables = { first: 10, offset: 10 };

/** One line per pick; every field read here is typed from schema.graphql. */
export function lines(page: RecommendationsQuery): string[] {
  return page.recommendations.map((rec) => {
    const year: string = rec.movie.releaseDate?.slice(0, 4) ?? "????"; // Date: an ISO string
    const why = rec.source === "PERSONALIZED" ? "for you" : rec.reason;
    return `${rec.movie.title} (${year}) ${why}: ${rec.score.toFixed(2)}`;
  });
}

export function overview(page: RecommendationsQuery): unknown {
  // @ts-expect-error: the query did not ask for `overview`, so the result type has none
  return page.recommendations[0]?.movie.overview;
}
