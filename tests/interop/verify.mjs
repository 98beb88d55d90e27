#!/usr/bin/env node
/*
 * Verifies credentials with Digital Bazaar's verifier, independently of our Python library.
 *
 *   node tests/interop/verify.mjs [input.json]      (reads stdin without a file)
 *
 * Input: a JSON array of {credential, didDocuments: {did: document}, statusLists: {url: credential}}.
 * Output (stdout): a JSON array, one entry per input item, in order:
 *   {verified, error, status}
 * `verified` is what @digitalbazaar/vc's verifyCredential answers (proof, proof purpose, dates, and,
 * when the credential has a credentialStatus, the status list credential's own proof and issuer,
 * through @digitalbazaar/vc-bitstring-status-list). `error` is null or the messages joined by "; ".
 * `status` lists, for each BitstringStatusListEntry checked, whether its bit is set; a set bit does
 * not make `verified` false (the status check answers "the status could be checked", as the
 * library does), so a caller wanting "not revoked" reads `status`.
 *
 * The document loader never touches the network: it serves the JSON-LD contexts our server ships
 * (badges/credentials/contexts/, via index.json), the contexts the npm packages bundle, the DID
 * documents and status list credentials of the item being verified, and throws for any other URL.
 * A context URL both sources hold must have identical content, or loading it throws.
 */
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';
import {isDeepStrictEqual} from 'node:util';

import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus} from '@digitalbazaar/vc-bitstring-status-list';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {contexts as statusListContexts} from '@digitalbazaar/vc-bitstring-status-list-context';
import securityContext from '@digitalbazaar/security-context';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const CONTEXTS_DIR = process.env.INTEROP_CONTEXTS_DIR ||
  path.resolve(HERE, '..', '..', 'badges', 'credentials', 'contexts');

function loadShippedContexts() {
  const index = JSON.parse(fs.readFileSync(path.join(CONTEXTS_DIR, 'index.json'), 'utf8'));
  const shipped = new Map();
  for(const [url, file] of Object.entries(index)) {
    shipped.set(url, JSON.parse(fs.readFileSync(path.join(CONTEXTS_DIR, file), 'utf8')));
  }
  return shipped;
}

const SHIPPED = loadShippedContexts();
const FROM_NPM = new Map([
  ...credentialsContexts,
  ...statusListContexts,
  ...securityContext.contexts,
]);

function contextFor(url) {
  const ours = SHIPPED.get(url);
  const theirs = FROM_NPM.get(url);
  if(ours !== undefined && theirs !== undefined && !isDeepStrictEqual(ours, theirs)) {
    throw new Error(`The context ${url} our server ships differs from the one the npm packages bundle.`);
  }
  return ours ?? theirs;
}

function makeDocumentLoader({didDocuments = {}, statusLists = {}}) {
  return async url => {
    const answer = document => ({contextUrl: null, documentUrl: url, document});
    const context = contextFor(url);
    if(context !== undefined) {
      return answer(context);
    }
    if(url.startsWith('did:')) {
      const hash = url.indexOf('#');
      const did = hash === -1 ? url : url.slice(0, hash);
      const didDocument = Object.hasOwn(didDocuments, did) ? didDocuments[did] : undefined;
      if(didDocument === undefined) {
        throw new Error(`No DID document given for ${did} (the verifier resolves nothing online).`);
      }
      if(hash === -1) {
        return answer(didDocument);
      }
      const method = (didDocument.verificationMethod || []).find(m => m.id === url);
      if(method === undefined) {
        throw new Error(`The DID document of ${did} has no verification method ${url}.`);
      }
      return answer({'@context': didDocument['@context'], ...method});
    }
    if(Object.hasOwn(statusLists, url)) {
      return answer(statusLists[url]);
    }
    throw new Error(`Refusing to load ${url}: not a bundled context, given DID document or status list.`);
  };
}

function messages(error, seen = new Set()) {
  if(!error || seen.has(error)) {
    return [];
  }
  seen.add(error);
  const out = [];
  if(Array.isArray(error.errors) && error.errors.length) {
    for(const inner of error.errors) {
      out.push(...messages(inner, seen));
    }
  } else if(error.message) {
    out.push(error.message);
  } else {
    out.push(String(error));
  }
  // the error behind this one (jsonld.js keeps it in `details.cause`); a wrapping error usually
  // quotes its cause ("…; reason: <cause>"): keep only what that adds
  for(const cause of [error.cause, error.details?.cause]) {
    out.push(...messages(cause, seen).filter(m => !out.some(o => o.includes(m))));
  }
  return out;
}

function errorOf(result) {
  const found = [];
  const seen = new Set();
  found.push(...messages(result.error, seen));
  for(const r of result.results || []) {
    found.push(...messages(r.error, seen));
  }
  if(result.statusResult) {
    found.push(...messages(result.statusResult.error, seen));
  }
  const unique = [...new Set(found)];
  return unique.length ? unique.join('; ') : null;
}

async function verifyItem(item) {
  if(!item || typeof item !== 'object' || !item.credential || typeof item.credential !== 'object') {
    return {verified: false, error: 'The input item holds no "credential" object.', status: []};
  }
  const documentLoader = makeDocumentLoader(item);
  const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
  const result = await vc.verifyCredential({
    credential: item.credential,
    suite,
    documentLoader,
    checkStatus,
  });
  const status = (result.statusResult?.results || []).map(r => ({
    statusPurpose: r.credentialStatus.statusPurpose,
    statusListCredential: r.credentialStatus.statusListCredential,
    statusListIndex: r.credentialStatus.statusListIndex,
    set: r.status,
  }));
  return {verified: result.verified === true, error: result.verified ? null : errorOf(result), status};
}

async function main() {
  const file = process.argv[2];
  const text = fs.readFileSync(file ?? 0, 'utf8');
  let items;
  try {
    items = JSON.parse(text);
  } catch(e) {
    process.stderr.write(`verify.mjs: the input is not JSON: ${e.message}\n`);
    process.exit(2);
  }
  if(!Array.isArray(items)) {
    process.stderr.write('verify.mjs: the input must be a JSON array of {credential, didDocuments, statusLists}.\n');
    process.exit(2);
  }
  const out = [];
  for(const item of items) {
    try {
      out.push(await verifyItem(item));
    } catch(e) {
      out.push({verified: false, error: messages(e).join('; ') || String(e), status: []});
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

await main();
