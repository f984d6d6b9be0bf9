// Records what the reference's xAPI module POSTs for a sequence of mapped
// events (the expected values of ../reference.jsonl). Not run by the tests.
//
// Setup: a directory with the reference's src/out/xapi/{xapi,templates,
// decrypt}.js of bbb-webhooks a001f1d, a package.json of {"type": "module"}
// and `npm install luxon@3.4.4 uuid@9.0.1 node-fetch@3.3.2`.
// Usage: TZ=<zone> XAPI_DIR=<that directory> node harness.mjs scenario.json
// It feeds the events one at a time to the module with in-memory stores
// (first write wins, as its own) and prints, per event, the requests its
// LRS on 127.0.0.1:<scenario.port> received.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';

const { default: XAPI } = await import(path.resolve(process.env.XAPI_DIR, 'xapi.js'));

process.on('unhandledRejection', () => {});
const scenario = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
let captured = [];
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => body += c);
  req.on('end', () => {
    captured.push({ method: req.method, path: req.url, authorization: req.headers['authorization'],
      contentType: req.headers['content-type'], version: req.headers['x-experience-api-version'], body });
    res.writeHead(200, { 'content-type': 'application/json' }); res.end('{}');
  });
});
await new Promise((r) => server.listen(scenario.port || 0, '127.0.0.1', r));
const port = server.address().port;
const sub = (s) => typeof s === 'string' ? s.replaceAll('PORT', String(port)) : s;
class Store {
  constructor(field) { this.field = field; this.items = []; }
  async add(p) { this.items.push({ ...p }); }
  async find(v) { return this.items.find((i) => i[this.field] === v); }
}
const meetings = new Store('internal_meeting_id'), users = new Store('external_user_id'), polls = new Store('object_id');
const meetingStorage = { addOrUpdateMeetingData: (p) => meetings.add({ internal_meeting_id: p.internal_meeting_id, context_registration: p.context_registration, planned_duration: p.planned_duration, create_time: p.create_time, meeting_name: p.meeting_name, xapi_enabled: p.xapi_enabled, create_end_actor_name: p.create_end_actor_name, lrs_payload: p.lrs_payload }), getMeetingData: (id) => meetings.find(id) };
const userStorage = { addOrUpdateUserData: (p) => users.add({ external_user_id: p.external_user_id, name: p.name }), getUserData: (id) => users.find(id) };
const pollStorage = { addOrUpdatePollData: (p) => polls.add({ object_id: p.object_id, question: p.question, choices: p.choices }), getPollData: (id) => polls.find(id) };
const noop = () => {};
const context = { getLogger: () => ({ debug: noop, info: noop, warn: noop, error: noop }) };
const config = { uuid_namespace: scenario.namespace, server: { domain: scenario.domain, secret: scenario.secret },
  lrs: { lrs_endpoint: sub(scenario.lrs.endpoint ?? undefined), lrs_username: scenario.lrs.username ?? undefined, lrs_password: scenario.lrs.password ?? undefined } };
const xapi = new XAPI(context, config, meetingStorage, userStorage, pollStorage);
const out = [];
for (const raw of scenario.events) {
  const event = JSON.parse(sub(JSON.stringify(raw)));
  captured = [];
  let outcome = 'pending';
  try {
    await Promise.race([xapi.onEvent(event).then(() => outcome = 'resolved', (e) => outcome = 'rejected: ' + e.message),
      new Promise((r) => setTimeout(r, 300))]);
  } catch (e) { outcome = 'threw: ' + e.message; }
  await new Promise((r) => setTimeout(r, 60));
  out.push({ outcome, requests: captured });
}
console.log(JSON.stringify(out));
server.close();
process.exit(0);
