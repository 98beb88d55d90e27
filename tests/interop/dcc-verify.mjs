#!/usr/bin/env node
/*
 * Verifies credentials with a second verifier stack: the Digital Credentials Consortium's
 * verifier-core (@digitalcredentials/verifier-core, used by the DCC's VerifierPlus and Learner
 * Credential Wallet), as it runs for them: its own document loader, did:web resolver, status list
 * checker and 1EdTech schema check.
 *
 *   LIVE_SERVER_URL=http://localhost:8123 SCHEMAS_DIR=../shared/ob3-schemas node tests/interop/dcc-verify.mjs
 *
 * Input (stdin): a JSON array of credentials. Output (stdout): a JSON array, one entry per credential:
 *   {verified, errors, log, schema, fetched}
 * `log` is verifier-core's list of steps ({id, valid}: valid_signature, expiration, revocation_status,
 * registered_issuer, with its matchingIssuers and uncheckedRegistries); `verified` is: no fatal error,
 * and every step valid except `registered_issuer`. Which registries verifier-core asks is DCC_REGISTRIES,
 * a JSON array of known-registry entries as the DCC's issuer-registry client reads them (none by default),
 * e.g. [{"type": "oidf", "name": "…", "trustAnchorEC": "http://host:port/.well-known/openid-federation"}]. `schema` is verifier-core's schema check (ajv, 2019-09) of each
 * schema the credential lists. `fetched` lists what was read from the live server.
 *
 * Offline: verifier-core fetches with the global fetch, which is replaced here. It answers the JSON-LD
 * contexts our server ships (badges/credentials/contexts/index.json) and the 1EdTech schemas of
 * ../shared/ob3-schemas from local files; a did:web on the live test server's host (which the did:web
 * method turns into an https URL) is fetched from that server over http, as are its status lists;
 * every other URL is refused, so nothing leaves this machine.
 */
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONTEXTS_DIR = process.env.INTEROP_CONTEXTS_DIR ||
  path.resolve(HERE, '..', '..', 'badges', 'credentials', 'contexts');
const SCHEMAS_DIR = process.env.SCHEMAS_DIR || path.resolve(HERE, '..', '..', '..', 'shared', 'ob3-schemas');
const LIVE = process.env.LIVE_SERVER_URL;
if(!LIVE) {
  process.stderr.write('dcc-verify.mjs: set LIVE_SERVER_URL to the test server (http://host:port).\n');
  process.exit(2);
}
const live = new URL(LIVE);
const REGISTRIES = JSON.parse(process.env.DCC_REGISTRIES || '[]');

const LOCAL = new Map();
for(const [url, file] of Object.entries(JSON.parse(fs.readFileSync(path.join(CONTEXTS_DIR, 'index.json'), 'utf8')))) {
  LOCAL.set(url, fs.readFileSync(path.join(CONTEXTS_DIR, file), 'utf8'));
}
for(const name of ['achievementcredential', 'endorsementcredential']) {
  const file = path.join(SCHEMAS_DIR, `ob_v3p0_${name}_schema.json`);
  LOCAL.set(`https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_${name}_schema.json`,
    fs.readFileSync(file, 'utf8'));
}

const realFetch = globalThis.fetch;
let fetched = [];
const refused = [];
globalThis.fetch = async (input, init) => {
  const request = input instanceof Request ? input : new Request(input, init);
  const url = new URL(request.url);
  const key = url.href.split('#')[0];
  if(LOCAL.has(key)) {
    return new Response(LOCAL.get(key), {status: 200, headers: {'content-type': 'application/ld+json'}});
  }
  if(url.host === live.host && (url.protocol === 'https:' || url.protocol === live.protocol)) {
    // did:web names https; the test server speaks http on the same host and port
    const target = live.protocol + '//' + url.host + url.pathname + url.search;
    fetched.push(target);
    return realFetch(target, {method: request.method, headers: request.headers});
  }
  refused.push(url.href);
  throw new TypeError(`offline: refusing to fetch ${url.href}`);
};

const {verifyCredential} = await import('@digitalcredentials/verifier-core');

function summary(result) {
  const log = (result.log || []).map(({id, valid, error, matchingIssuers, uncheckedRegistries}) => ({
    id, valid, ...(error && {error: error.message}), ...(matchingIssuers && {matchingIssuers}),
    ...(uncheckedRegistries && {uncheckedRegistries})}));
  const errors = (result.errors || []).map(e => `${e.name}: ${e.message}`);
  const schemaEntry = (result.additionalInformation || []).find(e => e.id === 'schema_check');
  const schema = Array.isArray(schemaEntry?.results) ?
    schemaEntry.results.map(r => ({schema: r.schema, valid: r.result.valid,
      errors: (r.result.errors || []).map(e => `${e.instancePath} ${e.message}`)})) :
    (schemaEntry?.results ?? null);
  const stepsOk = log.length > 0 && log.every(step => step.id === 'registered_issuer' || step.valid === true);
  return {verified: errors.length === 0 && stepsOk && log.some(s => s.id === 'valid_signature'), errors, log,
    schema};
}

const items = JSON.parse(fs.readFileSync(process.argv[2] ?? 0, 'utf8'));
const out = [];
for(const credential of items) {
  fetched = [];
  let result;
  try {
    result = summary(await verifyCredential({credential, knownDIDRegistries: REGISTRIES}));
  } catch(e) {
    result = {verified: false, errors: [String(e?.message || e)], log: [], schema: null};
  }
  out.push({...result, fetched: [...new Set(fetched)]});
}
process.stdout.write(JSON.stringify({results: out, refused: [...new Set(refused)]}) + '\n');
