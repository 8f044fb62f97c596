// A supporter's fediverse server, played by Fedify (an independent ActivityPub
// implementation), against a solnet node's actor. Run by FediverseInteropTests, which
// starts the node and publishes call-outs when this script says it is ready.
// Each step prints one JSON line on stdout; the test reads them. Arguments:
//   node interop.mjs <acct:name@host>
// Env: NODE_TLS_REJECT_UNAUTHORIZED=0 (the test node's certificate is self-signed).
import http from "node:http";
import { lookupWebFinger } from "@fedify/webfinger";
import { lookupObject, traverseCollection, Person, CryptographicKey, Follow, Undo, Like, Activity, Create, Update, Note } from "@fedify/vocab";
import { getDocumentLoader, generateCryptoKeyPair, signRequest, verifyRequest } from "@fedify/fedify";

const acct = process.argv[2];
const say = (o) => process.stdout.write(JSON.stringify(o) + "\n");
const fail = (why) => { say({ step: "error", why: String(why) }); process.exit(1); };
setTimeout(() => fail("timed out"), 120_000).unref();

// Loopback everywhere in the test: let Fedify dial it.
const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
const contextLoader = documentLoader;
const opts = { documentLoader, contextLoader };

// 1. Find the network by WebFinger, load its actor and its outbox.
const jrd = await lookupWebFinger(acct, { allowPrivateAddress: true });
const self = jrd?.links?.find((l) => l.rel === "self" && l.type === "application/activity+json");
if (!self) fail(`no self link in WebFinger for ${acct}`);
const group = await lookupObject(self.href, opts);
if (!group) fail(`could not load the actor ${self.href}`);
const key = await group.getPublicKey(opts);
say({ step: "actor", id: group.id.href, type: group.constructor.name, name: group.name?.toString() ?? "",
  keyOwner: key?.ownerId?.href ?? "", keyAlgorithm: key?.publicKey?.algorithm?.name ?? "",
  inbox: group.inboxId?.href ?? "", sharedInbox: group.endpoints?.sharedInbox?.href ?? "" });
const outbox = await group.getOutbox(opts);
const posts = [];
for await (const item of traverseCollection(outbox, opts)) {
  if (item instanceof Create) {
    const note = await item.getObject(opts);
    posts.push({ activity: item.constructor.name, type: note?.constructor.name, id: note?.id?.href, content: note?.content?.toString() ?? "" });
  }
}
say({ step: "outbox", totalItems: outbox.totalItems, posts, raw: JSON.stringify(await outbox.toJsonLd()) });

// 2. The supporter: an actor with an RSA key, served on loopback.
const { privateKey, publicKey } = await generateCryptoKeyPair("RSASSA-PKCS1-v1_5");
const server = http.createServer();
await new Promise((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${server.address().port}`;
const me = new URL(`${base}/users/supporter`);
const keyId = new URL(`${me.href}#main-key`);
const person = new Person({
  id: me, preferredUsername: "supporter", name: "A supporter",
  inbox: new URL(`${me.href}/inbox`),
  endpoints: null,
  publicKey: new CryptographicKey({ id: keyId, owner: me, publicKey }),
});
const personJson = JSON.stringify(await person.toJsonLd());

const waiting = [];   // resolvers for activities the test waits for, by type
const received = [];
const next = (type) => new Promise((resolve) => {
  const found = received.find((a) => a.type === type && !a.taken);
  if (found) { found.taken = true; resolve(found); } else waiting.push({ type, resolve });
});

server.on("request", async (req, res) => {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  if (req.method === "GET" && req.url === "/users/supporter") {
    res.writeHead(200, { "content-type": "application/activity+json" });
    res.end(personJson);
    return;
  }
  if (req.method === "POST" && req.url === "/users/supporter/inbox") {
    const request = new Request(`${base}${req.url}`, { method: "POST", headers: req.headers, body });
    const signer = await verifyRequest(request, opts);
    const json = JSON.parse(body.toString("utf8"));
    const activity = await Activity.fromJsonLd(json, opts);
    const entry = {
      type: activity.constructor.name, verified: signer !== null, signerOwner: signer?.ownerId?.href ?? "",
      actor: activity.actorId?.href ?? "", raw: body.toString("utf8"),
    };
    if (activity instanceof Create || activity instanceof Update) {
      const obj = await activity.getObject(opts);
      entry.objectType = obj?.constructor.name;
      entry.objectId = obj?.id?.href ?? "";
      entry.content = obj?.content?.toString() ?? "";
    }
    say({ step: "received", ...entry });
    res.writeHead(signer ? 202 : 401);
    res.end();
    const w = waiting.findIndex((x) => x.type === entry.type);
    if (w >= 0) waiting.splice(w, 1)[0].resolve(entry); else received.push(entry);
    return;
  }
  res.writeHead(404);
  res.end();
});

async function post(activity, spec) {
  const body = JSON.stringify(await activity.toJsonLd());
  const request = new Request(group.inboxId, {
    method: "POST", headers: { "content-type": "application/activity+json" }, body,
  });
  const signed = await signRequest(request, privateKey, keyId, { spec });
  const response = await fetch(signed);
  return response.status;
}

// 3. A Like signed with RFC 9421 (answered 202, not used), then the Follow signed the way
// Mastodon signs (draft-cavage), then the Accept.
const likeStatus = await post(new Like({ id: new URL(`${me.href}/likes/1`), actor: me, object: group.id }), "rfc9421");
say({ step: "like", spec: "rfc9421", status: likeStatus });
const followStatus = await post(new Follow({ id: new URL(`${me.href}/follows/1`), actor: me, object: group.id }),
  "draft-cavage-http-signatures-12");
say({ step: "follow", spec: "draft-cavage-http-signatures-12", status: followStatus });
const accept = await next("Accept");
say({ step: "ready" });

// 4. The test publishes a public call-out and updates it: the Create, then the Update.
await next("Create");
await next("Update");

// 5. Unfollow, signed with RFC 9421.
const undoStatus = await post(new Undo({
  id: new URL(`${me.href}/follows/1/undo`), actor: me,
  object: new Follow({ id: new URL(`${me.href}/follows/1`), actor: me, object: group.id }),
}), "rfc9421");
say({ step: "undo", spec: "rfc9421", status: undoStatus });
say({ step: "done" });
server.close();
process.exit(0);
