"""Writes ../reference.jsonl: the event sequences of the differential test,
with the requests the reference sent for them (see harness.mjs).

Usage: XAPI_DIR=<see harness.mjs> python3 scenarios.py <the reference's
example mapped events, one JSON per line> > ../reference.jsonl
Payloads are sealed with the openssl command line, so each run gives new
ciphertexts (and the same statements).
"""
import json, os, subprocess, sys

PORT = 18934
NS = "22946e5b-1860-4436-a025-cb133ca4c1d3"
SECRET = "bab3fd92bcd7d464"
LRS = f"http://127.0.0.1:{PORT}"

def seal(plain, secret=SECRET, single=True):
    args = ["openssl", "enc", "-aes-256-cbc", "-pbkdf2", "-a", "-pass", "pass:" + secret]
    if single: args.insert(5, "-A")
    return subprocess.run(args, input=plain.encode(), capture_output=True, check=True).stdout.decode().rstrip("\n") + ("" if single else "\n")

def ev(id, attrs, ts):
    return {"data": {"type": "event", "id": id, "attributes": attrs, "event": {"ts": ts}}}

def mtg(i, e): return {"internal-meeting-id": i, "external-meeting-id": e}

def created(i, e, ts=1708381132686, create=1698771157700, name="Room", duration=0, metadata=None, extra=None, drop=()):
    m = {"internal-meeting-id": i, "external-meeting-id": e, "name": name, "is-breakout": False, "parent-id": "bbb-none",
         "duration": duration, "create-time": create, "create-date": "Tue Oct 31 13:52:37 BRT 2023", "record": False,
         "voice-conf": "71347", "dial-number": "613-555-1234", "max-users": 0, "metadata": {} if metadata is None else metadata}
    for k in drop: m.pop(k, None)
    if extra: m.update(extra)
    return ev("meeting-created", {"meeting": m}, ts)

def uev(id, i, e, user, ts, **more):
    a = {"meeting": mtg(i, e)}
    if user is not None: a["user"] = user
    a.update(more)
    return ev(id, a, ts)

def joined(i, e, u, name, ts, **kw):
    user = {"internal-user-id": u, "external-user-id": u, "role": "VIEWER", "presenter": False, "guest": False}
    if name is not ...: user["name"] = name
    user.update(kw)
    return uev("user-joined", i, e, user, ts)

def simple(id, i, e, u, ts, **kw):
    user = {"internal-user-id": u, "external-user-id": u}
    user.update(kw)
    return uev(id, i, e, user, ts)

def ended(i, e, ts): return ev("meeting-ended", {"meeting": mtg(i, e)}, ts)

def scenario(name, events, tz="UTC", lrs=None, namespace=NS, domain="myserver.com", secret=SECRET):
    return {"name": name, "tz": tz, "port": PORT, "namespace": namespace, "domain": domain, "secret": secret,
            "lrs": lrs or {"endpoint": LRS + "/lrs/", "username": "user", "password": "pass"}, "events": events}

S = []
ref = [json.loads(l) for l in open(sys.argv[1])]
S.append(scenario("reference example events", ref))

# Registration dates in the local zone.
for tz in ["UTC", "America/Sao_Paulo", "Asia/Tokyo"]:
    S.append(scenario(f"registration date in {tz}", [
        created("tz-1", "ext-tz", create=1698796800000),  # 2023-11-01T00:00Z
        created("tz-2", "ext-tz", create=1698771157700),  # 2023-10-31T16:52Z
        created("tz-3", "ext-tz", create=8.64e15 + 1),    # invalid date
        created("tz-4", "ext-tz", create=-62167219200001),
        joined("tz-3", "ext-tz", "w_u", "U", 1708381133689),
    ], tz=tz))

# Metadata variants.
meta_events = []
variants = [
    {"xapi-enabled": "false"}, {"xapi-enabled": "FALSE"}, {"xapi-enabled": False}, {"xapi-enabled": ""},
    {"xapi-enabled": "true"}, {"xapi-create-end-actor-name": "Teacher"}, {"xapi-create-end-actor-name": ""},
    {"xapi-create-end-actor-name": 0}, {"xapi-create-end-actor-name": 5}, {"xapi-create-end-actor-name": {"a": 1}},
    {"xapi-create-end-actor-name": "Teacher", "xapi-enabled": "false"}, None, "a string", [1],
]
for n, md in enumerate(variants):
    i = f"meta-{n}"
    c = created(i, f"ext-meta-{n}", metadata=md if md is not None else {})
    if md is None: c["data"]["attributes"]["meeting"]["metadata"] = None
    meta_events += [c, joined(i, f"ext-meta-{n}", f"w_meta{n}", "Joe", 1708381133689 + n), simple("user-cam-broadcast-start", i, f"ext-meta-{n}", f"w_meta{n}", 1708381134689 + n), ended(i, f"ext-meta-{n}", 1708381135689 + n)]
no_meta = created("meta-absent", "ext-meta-absent", drop=("metadata",))
meta_events += [no_meta, ended("meta-absent", "ext-meta-absent", 1708381136689)]
S.append(scenario("meeting metadata", meta_events))

# Per-meeting payloads.
tok = seal(json.dumps({"lrs_endpoint": LRS + "/tenant1/", "lrs_token": "AAF32423SDF5345"}))
basic = seal(json.dumps({"lrs_endpoint": LRS + "/tenant2/xapi/", "lrs_username": "tenant2", "lrs_password": "p@ss:wörd"}), single=False)
tok_only = seal(json.dumps({"lrs_token": "ONLY"}))
user_only = seal(json.dumps({"lrs_endpoint": LRS + "/t3", "lrs_username": "u3", "lrs_password": "p3", "lrs_token": ""}))
num_token = seal(json.dumps({"lrs_endpoint": LRS + "/t4/statements", "lrs_token": 12.5}))
bad = [seal("not json"), seal(json.dumps({"lrs_endpoint": LRS + "/x"})), seal("null"), seal("[]"), seal(json.dumps({"lrs_token": "t"}), secret="wrong"), "", None, 5, {"a": 1}, "garbage!!"]
pe = []
for n, p in enumerate([tok, basic, tok_only, user_only, num_token]):
    i = f"pay-{n}"
    pe += [created(i, f"ext-pay-{n}", metadata={"secret-lrs-payload": p}), joined(i, f"ext-pay-{n}", "w_pay", "Pay", 1708381133689)]
for n, p in enumerate(bad):
    i = f"bad-{n}"
    pe += [created(i, f"ext-bad-{n}", metadata={"secret-lrs-payload": p}), joined(i, f"ext-bad-{n}", "w_bad", "Bad", 1708381133689)]
pe += [created("pay-disabled", "ext-pd", metadata={"secret-lrs-payload": bad[0], "xapi-enabled": "false"}), joined("pay-disabled", "ext-pd", "w_pd", "PD", 1)]
S.append(scenario("per-meeting payloads", pe))
S.append(scenario("payload without endpoint and no configured one", [
    created("p-none", "ext-pn", metadata={"secret-lrs-payload": tok_only}), created("p-none2", "ext-pn2"),
], lrs={"endpoint": None, "username": None, "password": None}))
S.append(scenario("configured endpoint without credentials", [created("c-none", "ext-cn")],
    lrs={"endpoint": LRS + "/data/xAPI/", "username": None, "password": None}))

# Durations and time values.
de = []
for n, d in enumerate([90, 1.5, -5, "60", " 60 ", "", True, "abc", None, 0.1 + 0.2, [5], [], {}, "0x10", 1e21]):
    i = f"dur-{n}"
    de += [created(i, f"ext-dur-{n}", duration=d), joined(i, f"ext-dur-{n}", "w_d", "D", 1708381133689), ended(i, f"ext-dur-{n}", 1708381155717)]
de += [created("dur-absent", "ext-dur-absent", drop=("duration",)), ended("dur-absent", "ext-dur-absent", 1698771157700)]
de += [created("ct-str", "ext-ct", create="1698771157700"), joined("ct-str", "ext-ct", "w_ct", "C", 1)]
de += [created("ct-big", "ext-big", create=8.64e15 + 5), ended("ct-big", "ext-big", 1708381155717)]
de += [created("ct-frac", "ext-frac", create=1698771157700.5), ended("ct-frac", "ext-frac", 1698771157701)]
de += [created("ts-1", "ext-ts", ts="1708381132686"), joined("ts-1", "ext-ts", "w_ts", "T", "1708381133689"),
       joined("ts-1", "ext-ts", "w_ts2", "T2", None), joined("ts-1", "ext-ts", "w_ts3", "T3", 1e20), joined("ts-1", "ext-ts", "w_ts4", "T4", -1.5)]
nots = ev("user-joined", {"meeting": mtg("ts-1", "ext-ts"), "user": {"internal-user-id": "w_nots", "name": "N"}}, 0); del nots["data"]["event"]
de += [nots, simple("user-cam-broadcast-start", "ts-1", "ext-ts", "w_nots", 5)]
S.append(scenario("durations and instants", de))


I, E = "int-u", "ext-u"
ue = [created(I, E, name="Users room"),
      simple("user-cam-broadcast-start", I, E, "w_a", 10),          # before join: unknown
      joined(I, E, "w_a", "Alice", 11),
      joined(I, E, "w_a", "Renamed", 12),                          # statement with new name
      simple("user-cam-broadcast-start", I, E, "w_a", 13),          # first name wins
      joined(I, E, "w_noname", ..., 14), simple("user-cam-broadcast-end", I, E, "w_noname", 15), simple("user-left", I, E, "w_noname", 15),
      joined(I, E, "w_null", None, 16), simple("meeting-screenshare-started", I, E, "w_null", 17),
      joined(I, E, "w_num", 5, 18), simple("user-audio-muted", I, E, "w_num", 19),
      joined(I, E, "w_empty", "", 20), simple("user-audio-unmuted", I, E, "w_empty", 21),
      joined(I, E, "w_obj", {"x": [1, "a"]}, 22), simple("user-cam-broadcast-start", I, E, "w_obj", 23),
      joined(I, E, "w_big", 12345678901234567890, 24), simple("user-cam-broadcast-start", I, E, "w_big", 25),
      joined(I, E, "w_uni", "Zoë \"Q\" \\ é😀\n", 26), simple("user-cam-broadcast-start", I, E, "w_uni", 27),
      uev("user-joined", I, E, {"name": "No id"}, 28),
      uev("user-joined", I, E, None, 29),
      uev("user-joined", I, E, "a string", 30),
      uev("user-joined", I, E, {"internal-user-id": 42, "name": "Numeric id"}, 31),
      simple("user-left", I, E, "w_unknown", 32),
      uev("meeting-screenshare-started", I, E, None, 33),
      uev("user-left", I, E, {"internal-user-id": ""}, 34),
      uev("user-left", I, E, {"external-user-id": "w_a"}, 35),
      simple("user-left", I, E, "w_a", 36)]
# Microphone rules.
mic = [dict(), {"listening-only": False, "sharing-mic": True, "muted": False}, {"listening-only": True}, {"listening-only": "1"},
       {"listening-only": 1}, {"listening-only": "true"}, {"muted": True}, {"muted": "true"}, {"muted": " 1.0 "}, {"sharing-mic": False},
       {"sharing-mic": ""}, {"sharing-mic": "0"}, {"sharing-mic": " "}, {"sharing-mic": None}, {"sharing-mic": "false"}, {"sharing-mic": []},
       {"sharing-mic": [0]}, {"listening-only": [1]}, {"muted": {}}]
for n, flags in enumerate(mic):
    ue.append(simple("user-audio-voice-enabled", I, E, "w_a", 100 + n, **flags))
ue += [uev("user-audio-voice-enabled", I, E, None, 150), uev("user-audio-voice-enabled", I, E, "str", 151),
       simple("user-audio-voice-enabled", I, E, "w_unknown", 152),
       simple("user-audio-voice-disabled", I, E, "w_a", 153, **{"listening-only": False, "sharing-mic": False, "muted": True})]
for n, rh in enumerate([True, False, "false", 0, 1, None, ..., "", [], {}]):
    extra = {} if rh is ... else {"raise-hand": rh}
    ue.append(simple("user-raise-hand-changed", I, E, "w_a", 200 + n, **extra))
ue += [simple("user-raise-hand-changed", I, E, "w_a", 220, raiseHand=True), simple("user-raise-hand-changed", I, E, "w_unknown", 221, **{"raise-hand": True})]
for n, id in enumerate(["user-presenter-assigned", "user-emoji-changed", "meeting-recording-started", "user-audio-voice-enabled ", "USER-JOINED", "rap-archive-started"]):
    ue.append(simple(id, I, E, "w_a", 300 + n))
S.append(scenario("users and media", ue))

C = "int-c"; X = "ext-c"
def chat(msg, ts=400):
    a = {"meeting": mtg(C, X), "chat-id": "MAIN-PUBLIC-GROUP-CHAT"}
    if msg is not ...: a["chat-message"] = msg
    return ev("chat-group-message-sent", a, ts)
ce = [created(C, X), joined(C, X, "w_c", "Chatter", 1),
      chat({"id": "m1", "message": "hi", "sender": {"internal-user-id": "w_c", "name": "Chatter", "time": 1698771232706}}),
      chat({"message": "hi", "sender": {"internal-user-id": "w_c", "name": "Chatter"}}, 401),
      chat({"sender": {"name": "Chatter", "time": None}}, 402),
      chat({"sender": {"name": "Chatter", "time": "1698771232706"}}, 403),
      chat({"sender": {"name": "Snake", "time": 1.5, "external_user_id": "ext-snake"}}, 404),
      chat({"sender": {"name": "", "time": 7}}, 405),
      chat({"sender": {"time": 8, "external_user_id": 12.5}}, 406),
      chat({"sender": {"time": 1e20, "name": "Far"}}, 407),
      chat({"sender": [], "message": "array sender"}, 408),
      chat({"sender": "string sender"}, 409),
      chat({"sender": None}, 410),
      chat({"message": "no sender"}, 411),
      chat(..., 412),
      chat("not an object", 413),
      chat({"sender": {"name": "Chatter", "time": 9}}, "bad ts"),
      ]
S.append(scenario("chat", ce))

P = "int-p"; Q = "ext-p"
def poll(id, poll, user="w_p", ts=500):
    a = {"meeting": mtg(P, Q)}
    if user is not None: a["user"] = {"internal-user-id": user, "external-user-id": user}
    if poll is not ...: a["poll"] = poll
    return ev(id, a, ts)
pid = "2be5820127b5f8efc050fa003e83ef53fa62c356-1698771157729/1/1698771266437"
ABCD = [{"id": 0, "key": "A"}, {"id": 1, "key": "B"}, {"id": 2, "key": "C"}, {"id": 3, "key": "D"}]
pe = [created(P, Q), joined(P, Q, "w_p", "Poller", 1),
      poll("poll-started", {"id": pid, "question": "ABCD Poll Test", "answers": ABCD}),
      poll("poll-responded", {"id": pid, "answerIds": [0]}, ts=501),
      poll("poll-responded", {"id": pid, "answerIds": [0, 2]}, ts=502),
      poll("poll-responded", {"id": pid, "answerIds": []}, user="w_nobody", ts=503),
      poll("poll-responded", {"id": pid, "answerIds": ["b", "a", None, 1.5, [1, 2], {}]}, user=None, ts=504),
      poll("poll-responded", {"id": pid}, ts=505),
      poll("poll-responded", {"id": pid, "answerIds": "0"}, ts=506),
      poll("poll-responded", {"id": "unknown-poll", "answerIds": [0]}, ts=507),
      poll("poll-started", {"id": pid, "question": "Changed?", "answers": [{"id": 9, "key": "Z"}]}, ts=508),
      poll("poll-responded", {"id": pid, "answerIds": [9]}, ts=509),
      poll("poll-started", {"id": "p2", "answers": [{"id": "x"}, {"id": True, "key": 5}, {"id": 1.50, "key": None}, {"id": [1, 2], "key": {"k": 1}}, {"id": {}, "key": ""}]}, user="w_unknown", ts=510),
      poll("poll-started", {"id": "p3", "question": None, "answers": []}, user=None, ts=511),
      poll("poll-responded", {"id": "p3", "answerIds": [1]}, ts=512),
      poll("poll-started", {"id": "p4", "question": "Q", "answers": [{"id": 0, "key": "A"}, None]}, ts=513),
      poll("poll-started", {"id": "p5", "question": "Q", "answers": [{"key": "A"}]}, ts=514),
      poll("poll-started", {"id": "p6", "question": "Q"}, ts=515),
      poll("poll-started", {"id": 7, "question": "Q", "answers": []}, ts=516),
      poll("poll-started", ..., ts=517),
      poll("poll-started", {"id": "p8", "question": "Q", "answers": "A,B"}, ts=518),
      poll("poll-started", {"id": "p9", "question": "Q", "answers": [5]}, ts=519),
      poll("poll-responded", {"id": "p4", "answerIds": [0]}, ts=520)]
S.append(scenario("polls", pe))

W = [created("int-w", "ext-w1", name="First name", duration=30),
     joined("int-w", "ext-w1", "w_w", "W", 1),
     created("int-w", "ext-w2", name="Second name", duration=60, create=1700000000000, metadata={"xapi-create-end-actor-name": "Second"}),
     joined("int-w", "ext-w2", "w_w2", "W2", 2),
     ended("int-w", "ext-w2", 1700000001000),
     simple("user-left", "int-w", "ext-w2", "w_w", 1700000002000),
     simple("user-cam-broadcast-start", "int-w", "ext-w2", "w_w2", 1700000003000),
     created("int-w2", "ext-w", metadata={"xapi-enabled": "false"}),
     created("int-w2", "ext-w", name="enabled now"),
     joined("int-w2", "ext-w", "w_w3", "W3", 3),
     ended("int-unknown", "ext-unknown", 4),
     joined("int-unknown", "ext-unknown", "w_x", "X", 5),
     ev("user-joined", {"meeting": {"internal-meeting-id": 5, "external-meeting-id": "ext-w"}, "user": {"internal-user-id": "w_y"}}, 6),
     ev("user-joined", {"meeting": {"internal-meeting-id": "int-w2"}, "user": {"internal-user-id": "w_y"}}, 7),
     ev("user-joined", {"meeting": "int-w2", "user": {"internal-user-id": "w_y"}}, 8),
     ev("user-joined", {"user": {"internal-user-id": "w_y"}}, 9),
     {"data": {"id": "user-joined", "event": {"ts": 10}}},
     {"data": "user-joined"}, {}, [], "x",
     ev("user-joined", {"meeting": mtg("int-w2", "ext-other"), "user": {"internal-user-id": "w_z", "name": "Other ext"}}, 11),
     created("", "", name="empty ids"), joined("", "", "w_e", "E", 12),
     created("int-num", "ext-num", name=1e21), joined("int-num", "ext-num", "w_n", 0.1 + 0.2, 13),
     created("int-big", "ext-big", name=12345678901234567890, duration=1e-7), ended("int-big", "ext-big", 14)]
S.append(scenario("meetings, ids and shapes", W))


def record(s):
    """The scenario with, per event, the request the reference sent or None."""
    with open("scenario.tmp.json", "w") as f:
        json.dump(s, f)
    env = {"TZ": s["tz"], "PATH": os.environ["PATH"], "XAPI_DIR": os.environ["XAPI_DIR"]}
    here = os.path.dirname(os.path.abspath(__file__))
    r = subprocess.run(["node", os.path.join(here, "harness.mjs"), "scenario.tmp.json"], env=env,
                       capture_output=True, text=True, check=True)
    os.remove("scenario.tmp.json")
    expected = []
    for e in json.loads(r.stdout):
        reqs = e["requests"]
        assert len(reqs) <= 1, (s["name"], reqs)
        for q in reqs:
            assert (q["method"], q["contentType"], q["version"]) == ("POST", "application/json", "1.0.0"), q
        expected.append({k: reqs[0][k] for k in ("path", "authorization", "body")} if reqs else None)
    line = {k: s[k] for k in ["name", "tz", "namespace", "domain", "secret", "lrs", "events"]}
    line["expected"] = expected
    return line


for s in S:
    print(json.dumps(record(s), ensure_ascii=False))
