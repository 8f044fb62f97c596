// Fedify's side of the load tool's side-by-side fan-out (issue 20 #6; docs/performance.md
// "A peer, side by side"). One Node.js process plays both ends, as the load tool's one
// process holds the origin node and its peer swarm:
//   - the sender: a Fedify federation whose actor has an RSA-2048 key (as Mastodon's do); each run
//     is one ctx.sendActivity() of a new Create(Note) to N recipients' inboxes, Fedify's own
//     immediate delivery (no queue), each request signed by Fedify;
//   - N inboxes, each on a loopback port of its own (as the swarm's peers are): Fedify's inbox
//     handler verifies each request's HTTP signature against the sender's key (fetched once
//     from the actor, then cached in the key-value store, as a swarm peer pins the origin's
//     key) and checks the activity's actor owns that key, then calls the Create listener.
// The load tool drives it over stdin/stdout, one JSON line per answer:
//   node fanout.mjs MAX_PEERS [RSA_BITS] -> {"ready":true,"pid":…,"rsaBits":…}
//   "run N" on stdin                 -> {"peers":N,"ms":…,"received":N,"requests":…,"actorFetches":…}
//                                       (every inbox verified it; HTTP requests served and fetches
//                                       of the sender's actor during the run, to show what it did)
//   "quit" or end of stdin           -> exits
import http from "node:http";
import readline from "node:readline";
import { createFederation, MemoryKvStore } from "@fedify/fedify";
import { Create, Note, Person } from "@fedify/vocab";

const max = Number(process.argv[2] ?? "1000");
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");

let requests = 0;
let actorFetches = 0;
const federation = createFederation({
  kv: new MemoryKvStore(),
  // Everything is on 127.0.0.1: let Fedify dial it (it refuses private addresses by default).
  allowPrivateAddress: true,
});

// RSA-2048, the size Mastodon's actors have. Fedify's generateCryptoKeyPair() makes 4096-bit
// keys, whose signatures cost several times as much: the smaller key is the kinder comparison.
const bits = Number(process.argv[3] ?? "2048");
const keys = await crypto.subtle.generateKey(
  { name: "RSASSA-PKCS1-v1_5", modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
  true, ["sign", "verify"]);
federation
  .setActorDispatcher("/users/{identifier}", async (ctx, identifier) => (identifier === "origin" && actorFetches++, new Person({
    id: ctx.getActorUri(identifier),
    preferredUsername: identifier,
    inbox: ctx.getInboxUri(identifier),
    publicKey: identifier === "origin" ? (await ctx.getActorKeyPairs(identifier))[0].cryptographicKey : null,
  })))
  .setKeyPairsDispatcher((_ctx, identifier) => identifier === "origin" ? [keys] : []);

// Receipts by activity id: a run ends when every inbox has verified and taken its activity.
const tallies = new Map();
const tally = (id) => {
  let t = tallies.get(id);
  if (!t) {
    t = { count: 0, want: Infinity, done: null };
    t.promise = new Promise((resolve) => { t.done = resolve; });
    tallies.set(id, t);
  }
  return t;
};
federation.setInboxListeners("/users/{identifier}/inbox", "/inbox")
  .on(Create, (_ctx, create) => {
    const t = tally(create.id.href);
    if (++t.count >= t.want) t.done();
  });

const handler = async (req, res) => {
  requests++;
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const port = req.socket.localPort;
  const request = new Request(`http://127.0.0.1:${port}${req.url}`, {
    method: req.method, headers: req.headers,
    body: req.method === "GET" || req.method === "HEAD" ? undefined : Buffer.concat(chunks),
  });
  const response = await federation.fetch(request, { contextData: undefined });
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
};
const listen = () => new Promise((resolve) => {
  // Keep idle connections as long as Kestrel does (Node's default of 5 s closes them between
  // long runs, and a request sent on a socket the server is closing fails).
  const server = http.createServer(handler);
  server.keepAliveTimeout = 130_000;
  server.listen(0, "127.0.0.1", () => resolve(server.address().port));
});

const senderPort = await listen();
const sender = federation.createContext(new URL(`http://127.0.0.1:${senderPort}`), undefined);
const recipients = [];
for (let i = 0; i < max; i++) {
  const port = await listen();
  recipients.push({ id: new URL(`http://127.0.0.1:${port}/users/peer`), inboxId: new URL(`http://127.0.0.1:${port}/users/peer/inbox`) });
}

let n = 0;
async function run(peers) {
  n++;
  const origin = sender.getActorUri("origin");
  const followers = new URL(`${origin.href}/followers`);
  // About what a call-out says: a title, a target, a demand, a place.
  const activity = new Create({
    id: new URL(`${origin.href}/activities/${n}`),
    actor: origin,
    to: followers,
    object: new Note({
      id: new URL(`${origin.href}/notes/${n}`),
      attribution: origin,
      to: followers,
      content: `Fan-out ${peers} #${n}: picket at Bistro Co (Bistro Holdings), 1 High St, Leeds. Pay the £2,400 in stolen wages.`,
    }),
  });
  const t = tally(activity.id.href);
  t.want = peers;
  if (t.count >= peers) t.done();
  requests = 0;
  actorFetches = 0;
  const started = performance.now();
  await sender.sendActivity({ identifier: "origin" }, recipients.slice(0, peers), activity);
  await t.promise;
  const ms = performance.now() - started;
  tallies.delete(activity.id.href);
  say({ peers, ms, received: t.count, requests, actorFetches });
}

say({ ready: true, pid: process.pid, peers: max, rsaBits: bits });
for await (const line of readline.createInterface({ input: process.stdin })) {
  const [command, arg] = line.trim().split(/\s+/);
  if (command === "run") {
    try {
      await run(Math.min(Number(arg), max));
    } catch (e) {
      say({ error: String(e?.stack ?? e) });
    }
  } else if (command === "quit") {
    break;
  }
}
process.exit(0);
