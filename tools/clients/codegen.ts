// codegen.ts (npm install -D @graphql-codegen/cli @graphql-codegen/client-preset typescript)
import type { CodegenConfig } from "@graphql-codegen/cli";

const config: CodegenConfig = {
  // movierec's committed schema (here: the repository's own); or a server's /graphql/ URL.
  schema: "../../schema.graphql",
  documents: ["src/**/*.ts", "!src/gql/**"],
  generates: {
    "src/gql/": {
      preset: "client",
      config: {
        // Custom scalars travel as ISO 8601 strings; without this they would be `any`.
        scalars: { Date: "string", DateTime: "string" },
        enumsAsTypes: true,
        useTypeImports: true,
      },
    },
  },
};
export default config;
