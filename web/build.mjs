// Builds the review app into dist/: app.js (one minified bundle), app.css and index.html.
// The output depends only on the sources and the versions pinned in package-lock.json, so
// `make check-web` can compare a fresh build with the committed one.
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

rmSync("dist", { recursive: true, force: true });
mkdirSync("dist");
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2022"],
  outfile: "dist/app.js",
  legalComments: "eof",
  charset: "utf8",
  logLevel: "warning",
});
await build({
  entryPoints: ["src/app.css"],
  bundle: true,
  minify: true,
  outfile: "dist/app.css",
  logLevel: "warning",
});
copyFileSync("src/index.html", "dist/index.html");
