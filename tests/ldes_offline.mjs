// Preloaded into the LDES client by tests/test_ldes.py: any request to a host other than the
// loopback fails and is reported on stderr, so the test proves the feed needs no network.
import http from "node:http";
import https from "node:https";

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]", "::1"]);

function refuse(url) {
  process.stderr.write(`OFFLINE-REFUSED ${url}\n`);
  throw new Error(`offline test: refused ${url}`);
}

const realFetch = globalThis.fetch;
globalThis.fetch = (input, init) => {
  const url = new URL(typeof input === "string" ? input : input.url ?? String(input));
  if (!LOOPBACK.has(url.hostname)) refuse(url.href);
  return realFetch(input, init);
};

for (const mod of [http, https]) {
  const request = mod.request;
  mod.request = (options, ...rest) => {
    const host = typeof options === "string" ? new URL(options).hostname
      : options instanceof URL ? options.hostname : options.hostname ?? options.host;
    if (!LOOPBACK.has(host)) refuse(String(host));
    return request.call(mod, options, ...rest);
  };
}
