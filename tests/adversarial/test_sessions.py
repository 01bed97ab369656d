"""Attack: a stolen refresh token replayed after the owner's device rotated it."""
from conftest import gen_user, post_sign_in


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def refresh(client, token):
    return client.post("/api/auth/refresh", json={"refresh_token": token})


def test_a_replayed_refresh_token_ends_the_whole_session_and_is_audited(client, db):
    gen_user(db, "li.wei", password="correct horse")
    stolen = post_sign_in(client, "li.wei", "correct horse", "phone-1").json
    # The owner's phone refreshes first; the thief replays the copy it took before.
    owner = refresh(client, stolen["refresh_token"]).json
    replay = refresh(client, stolen["refresh_token"])
    assert replay.status_code == 401 and replay.json["errors"]["error_code"] == "invalid_token"
    # Both halves of the session die at once: the newer refresh token and the access token.
    assert refresh(client, owner["refresh_token"]).status_code == 401
    assert client.get("/api/auth/me", headers=bearer(owner["access_token"])).status_code == 401
    entry = db.audit_log.find_one({"action": "session.refresh_reuse"})
    assert entry and entry["target"]["session_id"] == stolen["session_id"]


def test_an_unknown_refresh_token_naming_a_session_does_not_end_it(client, db):
    gen_user(db, "li.wei", password="correct horse")
    tokens = post_sign_in(client, "li.wei", "correct horse", "phone-1").json
    forged = f"{tokens['session_id']}.not-a-token-we-issued"
    assert refresh(client, forged).status_code == 401
    assert refresh(client, tokens["refresh_token"]).status_code == 200
