#!/usr/bin/env bash
# Copies the prebuilt files of the pinned npm packages (package-lock.json) that the
# GraphQL playground loads into internal/playground/dist, with their licences. Run by
# `make playground` after `npm ci`; the result is committed and embedded in the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
nm=$here/node_modules
out=$here/../../internal/playground/dist
rm -rf "$out"
mkdir -p "$out/licenses"
cp "$nm/react/umd/react.production.min.js" "$out/react.production.min.js"
cp "$nm/react-dom/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
cp "$nm/graphiql/graphiql.min.js" "$out/graphiql.min.js"
cp "$nm/graphiql/graphiql.min.css" "$out/graphiql.min.css"
cp "$nm/graphql-ws/umd/graphql-ws.min.js" "$out/graphql-ws.min.js"
# The minified files keep a source-map comment naming a .map that is not shipped.
sed -i -E '$ s~//# sourceMappingURL=[^ ]*$~~' "$out"/*.js
for p in react react-dom graphiql graphql-ws; do
	v=$(node -p "require('$nm/$p/package.json').version")
	cp "$nm/$p/LICENSE"* "$out/licenses/$p-$v.txt"
done
