// Writes graphql-js's standard introspection queries (getIntrospectionQuery) to
// graph/testdata, where graph's tests check that the depth limit lets them through:
// the default one, and the one GraphiQL sends (every option on). Run by `make playground`.
import { writeFileSync } from 'node:fs';
import { getIntrospectionQuery, version } from 'graphql';

const out = process.argv[2];
const header = `# graphql-js ${version} getIntrospectionQuery(%s); written by tools/playground/introspection.mjs\n`;
writeFileSync(`${out}/introspection-default.graphql`, header.replace('%s', '') + getIntrospectionQuery());
const all = { descriptions: true, specifiedByUrl: true, directiveIsRepeatable: true, schemaDescription: true, inputValueDeprecation: true, oneOf: true };
writeFileSync(`${out}/introspection-all.graphql`, header.replace('%s', JSON.stringify(all)) + getIntrospectionQuery(all));
