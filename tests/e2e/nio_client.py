#!/usr/bin/python3
"""A Matrix user on an independent E2EE stack (matrix-nio + libolm), for e2e tests.

Run with Debian's interpreter (/usr/bin/python3, python3-matrix-nio and
python3-olm). Reads a JSON plan from the file named in argv[1], or from stdin:

    {
      "homeserver": "http://127.0.0.1:8008",
      "user": "@nio:server",            # registered beforehand
      "password": "...",
      "displayname": "Nio Peer",        # optional, set before joining
      "rooms": ["!a:server"],           # joined once invited ("room_id" works for one)
      "peer": "@bot:server",            # optional: only this sender's messages count
      "timeout": 60,                    # seconds per step (and for joining)
      "steps": [
        {"room": "!a:server", "send": ".ai hi", "expect": "Echo: hi",
         "count": 1, "settle_ms": 0, "mentions": ["@bot:server"]},
        {"verify": "@bot:server", "device": "BOTDEVICE", "expect": "verified"}
      ]
    }

Steps of other kinds (additive; the plan may then be given as a file, so
stdin stays free for "wait_signal"); a room may be named "$<label>" of a room
the plan created:

    {"create": "<label>", "alias": "localpart", "name": "...", "encrypted": true,
     "room_version": "12", "preset": "public_chat", "invite": ["@u:server"]}
        -> {"step", "created": "<label>", "room": "!id", "alias": "#localpart:server"}
    {"room": "$<label>", "invite": "@u:server"}       -> {"step", "invited", "room"}
    {"room": "$<label>", "send": "text", "count": 0}  -> sends without waiting for an answer
    {"room": "$<label>", "wait_member": "@u:server", "membership": "join"}
        -> waits until that member event arrives: {"step", "member", "membership", "room"}
    {"wait_signal": "<word>"}   -> prints {"step", "waiting": "<word>"} and reads stdin
                                   until a line equal to <word> arrives
    {"create": ..., "is_direct": true}   -> the invites are direct-chat invites
    {"room": ..., "send": "text", "reply_to": "last" | "$last" | "<event id>"}
        -> an m.in_reply_to reply ("last": the latest message the peer saw in the room;
           "$last": the event the previous send step sent)
    {"room": ..., "send": "text", "thread": "<event id>" | "step:<n>"}
        -> a message in the thread of that root (step:<n>: the event sent by step n),
           with the fallback reply to the thread's latest message, as Element sends it
    {"room": "$<label>", "send": "caption", "attach": {"path": "/tmp/x.png", "kind": "image",
     "name": "x.png", "mimetype": "image/png"}}
        -> sends an m.image (or "kind": "file": m.file) uploaded (encrypted with its
           keys in "file" in an encrypted room) with the caption as body; "send": ""
           sends it without a caption
    {"room": "$<label>", "report": true, "settle_ms": 1000}
        -> syncs settle_ms more, then {"step", "room", "report": [every peer message
           of the room, as above], "memberships": [the peer's membership events]}

Prints one JSON line when ready ({"ready": ...}) and one per step:
{"step", "room", "send", "sent_event_id", "sent_encrypted", "ok", "messages": [...]},
where each message is a peer message first seen after the send:
{event_id, sender, msgtype, body, text, formatted_body, encrypted, decrypted,
late_decrypt, relates_to, edits: [{event_id, encrypted, decrypted, body, ts}]}. `text`/`formatted_body`
are the latest edit's `m.new_content` (edits with m.replace are applied); each edit
keeps its own `body` and server timestamp `ts`.
A step succeeds when `count` (default 1) of those messages have a `text`
containing `expect`; it then keeps syncing `settle_ms` more to catch extras.

Withholding a room key (additive):

    {"room": "$<label>", "blacklist": "@u:server"}
        -> blacklists every device of that user, then starts and shares a new
           group session without them (its first key is kept):
           {"step", "room", "blacklisted": ["DEVICE", ...], "session_id"}
    {"room": "$<label>", "reshare": "@u:server"}
        -> unblacklists them and sends them that kept key (m.room_key over
           Olm), so what was sent with the session since becomes readable:
           {"step", "room", "reshared": ["DEVICE", ...]}

A "verify" step starts emoji verification the classic way, as nio does: a
to-device m.key.verification.start (start_key_verification) to that device,
no request. nio answers the accept with its key by itself; the step confirms
the emojis once the other key arrived and waits for the MAC. Its line:
{"step", "verify", "device", "transaction_id", "ok", "emoji": ["🐶 Dog", ...],
"verified", "device_verified", "cancel": {"code", "reason"} | null,
"received": [verification event types from the peer, in order]}.
`expect` is "verified" (default: the SAS completed and nio's store now marks
the device verified) or "cancel" (the peer cancelled; the step ends there).

Exit 0 when every step succeeded; 1 when a step timed out (its line has
"ok": false and "error"); 2 on a setup failure. Errors also go to stderr.
"""
import asyncio
import json
import sys
import tempfile
import time

from nio import (
    AsyncClient,
    KeyVerificationCancel,
    KeyVerificationEvent,
    AsyncClientConfig,
    JoinError,
    LoginResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomMemberEvent,
    RoomSendResponse,
    ToDeviceResponse,
)
from nio.api import RoomPreset
from nio.event_builders import ToDeviceMessage
from nio.crypto import ENCRYPTION_ENABLED
from nio.exceptions import EncryptionError


def out(obj) -> None:
    print(json.dumps(obj), flush=True)


class Failure(Exception):
    def __init__(self, message: str, code: int = 1, extra=None):
        super().__init__(message)
        self.code = code
        self.extra = extra or {}


class Peer:
    def __init__(self, client: AsyncClient, plan: dict):
        self.c = client
        self.plan = plan
        self.peer = plan.get("peer")
        self.seq = 0
        # event_id -> message record (originals only); edits keyed by target.
        self.messages: dict = {}
        self.pending_edits: dict = {}  # target event id -> list of edit records
        self.undecrypted: list = []  # (room_id, MegolmEvent) awaiting keys
        self.invites: set = set()
        self.labels: dict = {}  # "$label" -> room id of a room the plan created
        self.last_sent = None  # the event id the latest send step sent
        # (room id, user id) -> that member's membership events, in timeline order
        self.memberships: dict = {}
        # step index -> the event id that step sent ("thread": "step:<n>").
        self.sent: dict = {}
        # room id -> the latest event id seen in each thread (root -> event id).
        self.thread_latest: dict = {}
        # transaction id -> verification events from the peer, in order.
        self.verification_events: dict = {}
        # room id -> (session id, first session key) of a session shared without someone.
        self.kept_sessions: dict = {}
        client.add_to_device_callback(self.on_verification, (KeyVerificationEvent,))

    def on_verification(self, ev) -> None:
        self.verification_events.setdefault(ev.transaction_id, []).append(ev)

    async def step(self, timeout_ms: int = 0, full_state: bool = False):
        """One sync plus nio's key housekeeping (what sync_forever would do)."""
        resp = await self.c.sync(timeout=timeout_ms, full_state=full_state)
        if self.c.should_upload_keys:
            await self.c.keys_upload()
        if self.c.should_query_keys:
            await self.c.keys_query()
        if self.c.should_claim_keys:
            await self.c.keys_claim(self.c.get_users_for_key_claiming())
        await self.c.send_to_device_messages()
        if hasattr(resp, "rooms"):
            self.invites.update(resp.rooms.invite.keys())
            for room_id, info in resp.rooms.join.items():
                for ev in info.timeline.events:
                    if isinstance(ev, RoomMemberEvent):
                        self.memberships.setdefault((room_id, ev.state_key), []).append(
                            {"event_id": ev.event_id, "membership": ev.membership}
                        )
                    self.record(room_id, ev, late=False)
        self.retry_undecrypted()
        return resp

    def retry_undecrypted(self) -> None:
        still = []
        for room_id, ev in self.undecrypted:
            try:
                decrypted = self.c.decrypt_event(ev)
            except EncryptionError:
                still.append((room_id, ev))
                continue
            self.record(room_id, decrypted, late=True, was_encrypted=True)
        self.undecrypted = still

    def record(self, room_id: str, ev, late: bool, was_encrypted: bool = False) -> None:
        sender = getattr(ev, "sender", None)
        if sender == self.c.user_id:
            return
        if self.peer and sender != self.peer:
            return
        if isinstance(ev, MegolmEvent):
            self.undecrypted.append((room_id, ev))
            return
        source = getattr(ev, "source", {}) or {}
        if source.get("type") != "m.room.message":
            return
        content = source.get("content", {}) or {}
        decrypted = bool(getattr(ev, "decrypted", False))
        encrypted = decrypted or was_encrypted
        relates = content.get("m.relates_to") or {}
        if relates.get("rel_type") == "m.replace" and relates.get("event_id"):
            edit = {
                "event_id": ev.event_id,
                "encrypted": encrypted,
                "decrypted": decrypted,
                "new_content": content.get("m.new_content") or {},
                "body": (content.get("m.new_content") or {}).get("body"),
                "ts": getattr(ev, "server_timestamp", None),
            }
            target = self.messages.get(relates["event_id"])
            if target is None:
                self.pending_edits.setdefault(relates["event_id"], []).append(edit)
            else:
                self.apply_edit(target, edit)
            return
        self.seq += 1
        record = {
            "seq": self.seq,
            "room": room_id,
            "event_id": ev.event_id,
            "sender": sender,
            "msgtype": content.get("msgtype"),
            "body": content.get("body"),
            "text": content.get("body"),
            "formatted_body": content.get("formatted_body"),
            "relates_to": content.get("m.relates_to"),
            "encrypted": encrypted,
            "decrypted": decrypted,
            "late_decrypt": late,
            "relates_to": relates or None,
            "edits": [],
        }
        if relates.get("rel_type") == "m.thread" and relates.get("event_id"):
            self.thread_latest[relates["event_id"]] = ev.event_id
        self.messages[ev.event_id] = record
        for edit in self.pending_edits.pop(ev.event_id, []):
            self.apply_edit(record, edit)

    @staticmethod
    def apply_edit(record: dict, edit: dict) -> None:
        new = edit.pop("new_content")
        record["text"] = new.get("body")
        record["formatted_body"] = new.get("formatted_body")
        record["edits"].append(edit)

    async def join(self, rooms: list, deadline: float) -> None:
        for room_id in rooms:
            while room_id not in self.invites and room_id not in self.c.rooms:
                if time.monotonic() > deadline:
                    raise Failure(f"never invited to {room_id}", 2)
                await self.step(500)
            if room_id not in self.c.rooms:
                resp = await self.c.join(room_id)
                if isinstance(resp, JoinError):
                    raise Failure(f"join {room_id} failed: {resp.message}", 2)
            while room_id not in self.c.rooms or self.c.user_id not in self.c.rooms[
                room_id
            ].users:
                if time.monotonic() > deadline:
                    raise Failure(f"join of {room_id} never synced", 2)
                await self.step(500)

    def room_of(self, spec: dict) -> str:
        room_id = spec.get("room") or self.plan["rooms"][0]
        return self.labels.get(room_id, room_id)

    async def create(self, index: int, spec: dict, timeout: float) -> dict:
        initial_state = []
        if spec.get("encrypted"):
            initial_state.append({
                "type": "m.room.encryption",
                "state_key": "",
                "content": {"algorithm": "m.megolm.v1.aes-sha2"},
            })
        resp = await self.c.room_create(
            alias=spec.get("alias"),
            name=spec.get("name"),
            room_version=spec.get("room_version"),
            preset=RoomPreset(spec["preset"]) if spec.get("preset") else None,
            invite=spec.get("invite", []),
            initial_state=initial_state,
            is_direct=bool(spec.get("is_direct")),
        )
        if not isinstance(resp, RoomCreateResponse):
            raise Failure(f"step {index}: create failed: {resp}", 2)
        self.labels["$" + spec["create"]] = resp.room_id
        deadline = time.monotonic() + timeout
        while resp.room_id not in self.c.rooms:
            if time.monotonic() > deadline:
                raise Failure(f"step {index}: created room {resp.room_id} never synced", 2)
            await self.step(500)
        server = self.c.user_id.split(":", 1)[1]
        return {
            "step": index,
            "created": spec["create"],
            "room": resp.room_id,
            "alias": f"#{spec['alias']}:{server}" if spec.get("alias") else None,
            "encrypted": bool(self.c.rooms[resp.room_id].encrypted),
        }

    async def invite(self, index: int, spec: dict) -> dict:
        room_id = self.room_of(spec)
        resp = await self.c.room_invite(room_id, spec["invite"])
        if not isinstance(resp, RoomInviteResponse):
            raise Failure(f"step {index}: invite failed: {resp}")
        return {"step": index, "invited": spec["invite"], "room": room_id}

    async def wait_member(self, index: int, spec: dict, timeout: float) -> dict:
        room_id = self.room_of(spec)
        user, wanted = spec["wait_member"], spec.get("membership", "join")
        deadline = time.monotonic() + timeout
        while not any(m["membership"] == wanted
                      for m in self.memberships.get((room_id, user), [])):
            if time.monotonic() > deadline:
                result = {"step": index, "ok": False, "room": room_id,
                          "error": f"step {index}: {user} never got {wanted} in {room_id}"}
                raise Failure(result["error"], 1, result)
            await self.step(500)
        return {"step": index, "member": user, "membership": wanted, "room": room_id}

    async def wait_signal(self, index: int, spec: dict) -> dict:
        out({"step": index, "waiting": spec["wait_signal"]})
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                raise Failure(f"step {index}: stdin closed before {spec['wait_signal']!r}")
            if line.strip() == spec["wait_signal"]:
                return {"step": index, "signal": spec["wait_signal"]}

    async def user_devices(self, user: str) -> list:
        if self.c.should_query_keys:
            await self.c.keys_query()
        devices = list(self.c.device_store.active_user_devices(user))
        if not devices:
            raise Failure(f"no devices known for {user}")
        return devices

    async def blacklist(self, index: int, spec: dict) -> dict:
        room_id = self.room_of(spec)
        devices = await self.user_devices(spec["blacklist"])
        for device in devices:
            self.c.blacklist_device(device)
        # A new session, shared now without them; its key at index 0 is kept.
        self.c.olm.outbound_group_sessions.pop(room_id, None)
        await self.c.share_group_session(room_id, ignore_unverified_devices=True)
        session = self.c.olm.outbound_group_sessions[room_id]
        self.kept_sessions[room_id] = (session.id, session.session_key)
        return {"step": index, "room": room_id, "blacklisted": [d.id for d in devices],
                "session_id": session.id}

    async def reshare(self, index: int, spec: dict) -> dict:
        room_id = self.room_of(spec)
        user = spec["reshare"]
        devices = await self.user_devices(user)
        session_id, session_key = self.kept_sessions[room_id]
        for device in devices:
            self.c.unblacklist_device(device)
        missing = self.c.get_missing_sessions(room_id)
        if missing.get(user):
            await self.c.keys_claim({user: missing[user]})
        content = {"algorithm": "m.megolm.v1.aes-sha2", "room_id": room_id,
                   "session_id": session_id, "session_key": session_key}
        for device in devices:
            olm_session = self.c.olm.session_store.get(device.curve25519)
            if not olm_session:
                raise Failure(f"step {index}: no Olm session with {device.id}")
            encrypted = self.c.olm._olm_encrypt(olm_session, device, "m.room_key", content)
            await self.c.to_device(ToDeviceMessage("m.room.encrypted", user, device.id, encrypted))
        return {"step": index, "room": room_id, "reshared": [d.id for d in devices]}

    async def report(self, index: int, spec: dict) -> dict:
        room_id = self.room_of(spec)
        until = time.monotonic() + spec.get("settle_ms", 0) / 1000
        while True:
            now = time.monotonic()
            if now >= until:
                break
            await self.step(max(0, min(500, int((until - now) * 1000))))
        return {
            "step": index,
            "room": room_id,
            "report": [m for m in self.messages.values() if m["room"] == room_id],
            "undecrypted": [e.event_id for r, e in self.undecrypted if r == room_id],
            "memberships": self.memberships.get((room_id, self.peer), []),
        }

    async def any_step(self, index: int, spec: dict, timeout: float) -> dict:
        if "create" in spec:
            return await self.create(index, spec, timeout)
        if "invite" in spec and "send" not in spec:
            return await self.invite(index, spec)
        if "wait_member" in spec:
            return await self.wait_member(index, spec, timeout)
        if "wait_signal" in spec:
            return await self.wait_signal(index, spec)
        if spec.get("report"):
            return await self.report(index, spec)
        if "verify" in spec:
            return await self.run_verify(index, spec, timeout)
        if "blacklist" in spec:
            return await self.blacklist(index, spec)
        if "reshare" in spec:
            return await self.reshare(index, spec)
        return await self.run_step(index, spec, timeout)

    async def attachment(self, index: int, spec: dict, encrypted: bool) -> dict:
        """An m.image/m.file content whose caption is spec["send"] (uploaded, encrypted
        in encrypted rooms): "attach": {"path", "kind": "image"|"file", "name", "mimetype"}."""
        attach = spec["attach"]
        with open(attach["path"], "rb") as f:
            data = f.read()
        mimetype = attach.get("mimetype", "application/octet-stream")
        name = attach.get("name") or attach["path"].rsplit("/", 1)[-1]
        uploaded, keys = await self.c.upload(
            lambda *_: data,
            content_type="application/octet-stream" if encrypted else mimetype,
            filename=None if encrypted else name,
            encrypt=encrypted,
            filesize=len(data),
        )
        uri = getattr(uploaded, "content_uri", None)
        if not uri:
            raise Failure(f"step {index}: upload failed: {uploaded}")
        content = {
            "msgtype": "m.image" if attach.get("kind", "image") == "image" else "m.file",
            "body": spec["send"] if spec["send"] else name,
            "filename": name,
            "info": {"mimetype": mimetype, "size": len(data)},
        }
        if encrypted:
            content["file"] = {**keys, "url": uri}
        else:
            content["url"] = uri
        return content

    async def run_step(self, index: int, spec: dict, timeout: float) -> dict:
        room_id = self.room_of(spec)
        room = self.c.rooms[room_id]
        content = {"msgtype": "m.text", "body": spec["send"]}
        if spec.get("attach"):
            content = await self.attachment(index, spec, bool(room.encrypted))
        if spec.get("mentions"):
            content["m.mentions"] = {"user_ids": spec["mentions"]}
        if spec.get("reply_to"):
            target = spec["reply_to"]
            if target == "$last":
                # the event the previous send step sent
                target = self.last_sent
            elif target == "last":
                last = max((m for m in self.messages.values() if m["room"] == room_id),
                           key=lambda m: m["seq"], default=None)
                if last is None:
                    raise Failure(f"step {index}: no message to reply to in {room_id}")
                target = last["event_id"]
            content["m.relates_to"] = {"m.in_reply_to": {"event_id": target}}
        if spec.get("thread"):
            root = spec["thread"]
            if root.startswith("step:"):
                root = self.sent[int(root[5:])]
            content["m.relates_to"] = {
                "rel_type": "m.thread",
                "event_id": root,
                "is_falling_back": True,
                "m.in_reply_to": {"event_id": self.thread_latest.get(root, root)},
            }
        start_seq = self.seq
        sent = await self.c.room_send(
            room_id, "m.room.message", content, ignore_unverified_devices=True
        )
        if not isinstance(sent, RoomSendResponse):
            raise Failure(f"step {index}: send failed: {sent}")
        self.sent[index] = sent.event_id
        if spec.get("thread"):
            self.thread_latest[content["m.relates_to"]["event_id"]] = sent.event_id
        self.last_sent = sent.event_id
        result = {
            "step": index,
            "room": room_id,
            "send": spec["send"],
            "sent_event_id": sent.event_id,
            "sent_encrypted": bool(room.encrypted),
        }
        expect = spec.get("expect", "")
        count = int(spec.get("count", 1))
        deadline = time.monotonic() + timeout
        settle_until = None

        def mine():
            return [
                m
                for m in self.messages.values()
                if m["seq"] > start_seq and m["room"] == room_id
            ]

        while True:
            found = [m for m in mine() if expect in (m["text"] or "")]
            if settle_until is None and len(found) >= count:
                settle_until = time.monotonic() + spec.get("settle_ms", 0) / 1000
            now = time.monotonic()
            if settle_until is not None and now >= settle_until:
                break
            if now > deadline:
                result.update(ok=False, messages=mine(),
                              undecrypted=[e.event_id for r, e in self.undecrypted if r == room_id],
                              error=f"step {index}: no {count} message(s) containing "
                                    f"{expect!r} within {timeout}s after {spec['send']!r}")
                raise Failure(result["error"], 1, result)
            wait = settle_until - now if settle_until is not None else deadline - now
            await self.step(max(0, min(500, int(wait * 1000))))
        result.update(ok=True, messages=mine())
        return result


    async def run_verify(self, index: int, spec: dict, timeout: float) -> dict:
        user_id, device_id = spec["verify"], spec["device"]
        expect = spec.get("expect", "verified")
        deadline = time.monotonic() + timeout
        result = {"step": index, "verify": user_id, "device": device_id}

        def fail(error: str):
            result.update(ok=False, error=f"step {index}: {error}")
            raise Failure(result["error"], 1, result)

        # nio verifies only devices it has fetched the keys of.
        while True:
            device = self.c.device_store[user_id].get(device_id)
            if device is not None:
                break
            if time.monotonic() > deadline:
                fail(f"device {device_id} of {user_id} never showed up in the key store")
            self.c.olm.users_for_key_query.add(user_id)
            await self.step(500)
        sent = await self.c.start_key_verification(device)
        if not isinstance(sent, ToDeviceResponse):
            fail(f"start_key_verification failed: {sent}")
        sas = self.c.olm.get_active_sas(user_id, device_id)
        result["transaction_id"] = sas.transaction_id
        confirmed = False
        while True:
            events = self.verification_events.get(sas.transaction_id, [])
            cancel = next((e for e in events if isinstance(e, KeyVerificationCancel)), None)
            if sas.other_key_set and not confirmed and not sas.canceled:
                result["emoji"] = [f"{symbol} {name}" for symbol, name in sas.get_emoji()]
                confirmed = True
                answer = await self.c.confirm_short_auth_string(sas.transaction_id)
                if not isinstance(answer, ToDeviceResponse):
                    fail(f"confirm_short_auth_string failed: {answer}")
            done = sas.verified or cancel is not None or sas.canceled
            if done or time.monotonic() > deadline:
                result.update(
                    verified=bool(sas.verified),
                    device_verified=bool(self.c.device_store[user_id][device_id].verified),
                    cancel={"code": cancel.code, "reason": cancel.reason} if cancel else None,
                    received=[e.source.get("type") for e in events],
                )
                if not done:
                    fail(f"verification with {device_id} neither finished nor was cancelled "
                         f"within {timeout}s")
                if expect == "cancel" and cancel is None:
                    fail(f"expected a cancel, got verified={sas.verified} canceled={sas.canceled}")
                if expect == "verified" and not result["device_verified"]:
                    fail(f"verification did not complete: {result['cancel'] or 'no cancel'}")
                result["ok"] = True
                return result
            await self.step(500)


async def main() -> int:
    if not ENCRYPTION_ENABLED:
        print("nio has no encryption support (python3-olm missing)", file=sys.stderr)
        return 2
    raw = open(sys.argv[1]).read() if len(sys.argv) > 1 else sys.stdin.read()
    plan = json.loads(raw)
    if "rooms" not in plan:
        plan["rooms"] = [plan["room_id"]]
    timeout = float(plan.get("timeout", 60))
    with tempfile.TemporaryDirectory(prefix="nio-e2e-") as store:
        config = AsyncClientConfig(encryption_enabled=True, store_sync_tokens=True)
        client = AsyncClient(plan["homeserver"], plan["user"], store_path=store, config=config)
        try:
            peer = Peer(client, plan)
            login = await client.login(plan["password"], device_name="nio-e2e")
            if not isinstance(login, LoginResponse):
                raise Failure(f"login failed: {login}", 2)
            if plan.get("displayname"):
                await client.set_displayname(plan["displayname"])
            await peer.step(0, full_state=True)
            await peer.join(plan["rooms"], time.monotonic() + timeout)
            out({
                "ready": True,
                "user_id": client.user_id,
                "device_id": client.device_id,
                "rooms": {r: {"encrypted": bool(client.rooms[r].encrypted)} for r in plan["rooms"]},
            })
            for index, spec in enumerate(plan["steps"]):
                out(await peer.any_step(index, spec, float(spec.get("timeout", timeout))))
            return 0
        except Failure as failure:
            if failure.extra:
                out(failure.extra)
            print(f"nio_client: {failure}", file=sys.stderr)
            return failure.code
        finally:
            await client.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
