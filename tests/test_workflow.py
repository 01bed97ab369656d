"""The case workflow through the HTTP API: the full flow, its timeline, roles, separation of duties and ETags."""
from datetime import datetime, timedelta, timezone

import pytest

from finding_helpers import act, crew, log_finding, minimal_pdf, photo, promote, read, sent_finding, upload  # noqa: F401
from inspector.audit import chain as audit
from inspector.findings import workflow


def test_full_case_flow_from_photo_to_resolution(client, db, crew):
    inspector, supervisor, enterprise = crew["inspector"], crew["supervisor"], crew["enterprise"]
    finding = log_finding(client, inspector, notes="Six drums, labels scratched off.")
    assert finding["status"] == "submitted" and finding["province"] == "Jiangxi"
    assert upload(client, inspector, finding["id"], photo(gps=(25.8412, 114.9396))).status_code == 201

    body, etag = read(client, supervisor, finding["id"])
    assert body["allowed_actions"] == ["confirm", "dismiss"]
    confirmed = act(client, supervisor, finding["id"], "confirm", etag=etag, comment="Photo is clear.")
    assert confirmed.status_code == 200 and confirmed.json["status"] == "confirmed"
    assert confirmed.headers["ETag"] != etag

    deadline = (datetime.now(timezone.utc) + timedelta(days=7)).replace(microsecond=0)
    sent = act(client, supervisor, finding["id"], "send_to_enterprise", deadline=deadline.isoformat(),
               comment="Show the transfer record.")
    assert sent.json["status"] == "awaiting_response"
    assert datetime.fromisoformat(sent.json["deadline"]) == deadline
    assert sent.json["overdue"] is False

    seen, etag = read(client, enterprise, finding["id"])
    assert seen["allowed_actions"] == ["respond"]
    document = upload(client, enterprise, finding["id"], minimal_pdf(), "weighing-slip.pdf")
    assert document.status_code == 201 and document.json["kind"] == "document"
    # Adding evidence does not move the ETag: the enterprise responds with the one it read before uploading.
    responded = act(client, enterprise, finding["id"], "respond", etag=etag, response_type="explanation",
                    comment="The transfer was entered late; slip attached.", attachment_ids=[document.json["id"]])
    assert responded.status_code == 200, responded.json
    assert responded.json["status"] == "responded"

    resolved = act(client, supervisor, finding["id"], "resolve", outcome="penalty_recommended", comment="Late entry.")
    assert resolved.json["status"] == "resolved" and resolved.json["outcome"] == "penalty_recommended"
    assert resolved.json["allowed_actions"] == []

    timeline, _ = read(client, supervisor, finding["id"])
    steps = [(e["action"], e["role"], e["actor"]) for e in timeline["timeline"]]
    assert steps == [("submit", "inspector", "inspector"), ("attach", "inspector", "inspector"),
                     ("confirm", "supervisor", "supervisor"), ("send_to_enterprise", "supervisor", "supervisor"),
                     ("attach", "enterprise", "enterprise"), ("respond", "enterprise", "enterprise"),
                     ("resolve", "supervisor", "supervisor")]
    entries = {e["action"]: e for e in timeline["timeline"]}
    assert entries["confirm"]["comment"] == "Photo is clear."
    assert entries["respond"]["attachment_ids"] == [document.json["id"]]
    assert entries["respond"]["late"] is False
    assert entries["resolve"]["outcome"] == "penalty_recommended"
    assert all(e["at"] for e in timeline["timeline"])
    assert [e["at"] for e in timeline["timeline"]] == sorted(e["at"] for e in timeline["timeline"])

    actions = [e["action"] for e in db.audit_log.find({"target": f"finding:{finding['id']}"}).sort("_id", 1)]
    assert actions == ["finding.create", "finding.attach", "finding.confirm", "finding.send_to_enterprise",
                       "finding.attach", "finding.respond", "finding.resolve"]
    assert audit.verify(db) == []


def test_enterprise_sees_roles_not_the_names_of_officials(client, crew):
    finding_id = sent_finding(client, crew)
    seen, _ = read(client, crew["enterprise"], finding_id)
    assert "inspector" not in seen and "inspector_id" not in seen
    assert {e["actor"] for e in seen["timeline"]} == {"inspector", "supervisor"}  # roles, not usernames
    assert all(e["actor_id"] is None for e in seen["timeline"])


def test_invalid_action_for_the_state_is_409_with_the_allowed_actions(client, crew):
    finding = log_finding(client, crew["inspector"])
    response = act(client, crew["supervisor"], finding["id"], "resolve", outcome="accepted")
    assert response.status_code == 409
    assert response.json["errors"]["error_code"] == "invalid_transition"
    assert response.json["errors"]["allowed_actions"] == ["confirm", "dismiss"]
    assert read(client, crew["supervisor"], finding["id"])[0]["status"] == "submitted"


def test_an_unknown_action_is_refused_by_the_schema(client, crew):
    finding = log_finding(client, crew["inspector"])
    assert act(client, crew["supervisor"], finding["id"], "approve").status_code == 422


def test_state_change_without_if_match_is_428(client, crew):
    finding = log_finding(client, crew["inspector"])
    url = f"/api/inspections/{finding['id']}/transitions"
    response = client.post(url, json={"action": "confirm"}, headers=crew["supervisor"])
    assert response.status_code == 428
    assert response.json["errors"]["error_code"] == "if_match_required"
    wildcard = client.post(url, json={"action": "confirm"}, headers={**crew["supervisor"], "If-Match": "*"})
    assert wildcard.status_code == 428
    assert read(client, crew["supervisor"], finding["id"])[0]["status"] == "submitted"


def test_stale_if_match_is_412_and_changes_nothing(client, crew):
    finding = log_finding(client, crew["inspector"])
    _, etag = read(client, crew["supervisor"], finding["id"])
    assert act(client, crew["supervisor"], finding["id"], "confirm", etag=etag).status_code == 200
    # A second reviewer who read the same version tries to dismiss it.
    late = act(client, crew["supervisor"], finding["id"], "dismiss", etag=etag, reason="duplicate")
    assert late.status_code == 412
    assert late.json["errors"]["error_code"] == "stale_etag"
    current, _ = read(client, crew["supervisor"], finding["id"])
    assert current["status"] == "confirmed"
    assert [e["action"] for e in current["timeline"]] == ["submit", "confirm"]


def test_etag_check_is_in_the_update_filter_not_only_in_python(client, db, crew):
    """A writer that passed the Python check on an old read still loses when the stored ETag moved meanwhile."""
    finding = log_finding(client, crew["inspector"])
    as_read = db.findings.find_one({"_id": finding["id"]})
    act(client, crew["supervisor"], finding["id"], "confirm")  # lands between our read and our write
    supervisor = {"user_id": "someone-else", "username": "other", "role": "supervisor"}
    with pytest.raises(workflow.StaleFinding):
        workflow.apply(db, as_read, supervisor, {"action": "dismiss", "reason": "duplicate"}, as_read["_etag"])
    assert db.findings.find_one({"_id": finding["id"]})["status"] == "confirmed"


def test_etag_header_matches_the_body_and_weak_or_quoted_forms_work(client, crew):
    finding = log_finding(client, crew["inspector"])
    body, etag = read(client, crew["supervisor"], finding["id"])
    assert etag == f'"{body["etag"]}"'
    response = act(client, crew["supervisor"], finding["id"], "confirm", etag=f'W/{etag}')
    assert response.status_code == 200


def test_submitter_promoted_to_supervisor_can_neither_confirm_nor_resolve(client, db, auth, crew):
    finding = log_finding(client, crew["inspector"])
    own = promote(db, auth, "inspector")
    refused = act(client, own, finding["id"], "confirm")
    assert refused.status_code == 403
    assert refused.json["errors"]["error_code"] == "separation_of_duties"
    assert read(client, own, finding["id"])[0]["allowed_actions"] == []
    # Another supervisor takes it to the point of resolution; the submitter still may not resolve it.
    for action in ("confirm", "send_to_enterprise"):
        assert act(client, crew["supervisor"], finding["id"], action).status_code == 200
    assert act(client, crew["enterprise"], finding["id"], "respond", comment="Explained.").status_code == 200
    refused = act(client, own, finding["id"], "resolve", outcome="accepted")
    assert refused.status_code == 403
    assert refused.json["errors"]["error_code"] == "separation_of_duties"
    assert act(client, crew["supervisor"], finding["id"], "resolve", outcome="accepted").status_code == 200


def test_each_action_only_by_its_role(client, crew):
    finding = log_finding(client, crew["inspector"])
    for role in ("inspector", "admin"):
        response = act(client, crew[role], finding["id"], "confirm")
        assert response.status_code == 403, role
        assert response.json["errors"]["error_code"] == "forbidden_role"
    finding_id = sent_finding(client, crew)
    # The enterprise sees the sent finding but may not take a supervisor's action.
    refused = act(client, crew["enterprise"], finding_id, "request_more", comment="?")
    assert refused.status_code == 409  # not from awaiting_response
    act(client, crew["enterprise"], finding_id, "respond", comment="Explained.")
    refused = act(client, crew["enterprise"], finding_id, "resolve", outcome="accepted")
    assert refused.status_code == 403
    assert refused.json["errors"]["error_code"] == "forbidden_action"
    # And a supervisor may not respond for the enterprise.
    act(client, crew["supervisor"], finding_id, "request_more", comment="Send the contract.")
    assert act(client, crew["supervisor"], finding_id, "respond", comment="x").status_code == 403


def test_dismiss_needs_a_reason_and_other_needs_a_comment(client, crew):
    finding = log_finding(client, crew["inspector"])
    no_reason = act(client, crew["supervisor"], finding["id"], "dismiss")
    assert no_reason.status_code == 422 and no_reason.json["errors"]["field"] == "reason"
    bare_other = act(client, crew["supervisor"], finding["id"], "dismiss", reason="other")
    assert bare_other.status_code == 422 and bare_other.json["errors"]["field"] == "comment"
    dismissed = act(client, crew["supervisor"], finding["id"], "dismiss", reason="duplicate")
    assert dismissed.json["status"] == "dismissed" and dismissed.json["dismiss_reason"] == "duplicate"
    assert dismissed.json["allowed_actions"] == []


def test_fields_that_belong_to_another_action_are_refused(client, crew):
    finding = log_finding(client, crew["inspector"])
    response = act(client, crew["supervisor"], finding["id"], "confirm", outcome="accepted")
    assert response.status_code == 422
    assert response.json["errors"]["field"] == "outcome"


def test_deadline_defaults_to_response_days_and_must_be_in_the_future(client, crew):
    finding = log_finding(client, crew["inspector"])
    act(client, crew["supervisor"], finding["id"], "confirm")
    past = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    assert act(client, crew["supervisor"], finding["id"], "send_to_enterprise", deadline=past).status_code == 422
    before = datetime.now(timezone.utc)
    sent = act(client, crew["supervisor"], finding["id"], "send_to_enterprise")
    deadline = datetime.fromisoformat(sent.json["deadline"])
    assert timedelta(days=14) - timedelta(seconds=5) <= deadline - before <= timedelta(days=14, seconds=5)


def test_overdue_is_flagged_listed_counted_and_a_late_response_is_marked(client, db, crew):
    finding_id = sent_finding(client, crew)
    other_id = sent_finding(client, crew)
    db.findings.update_one({"_id": finding_id}, {"$set": {"deadline": datetime.now(timezone.utc) - timedelta(hours=1)}})
    body, _ = read(client, crew["supervisor"], finding_id)
    assert body["overdue"] is True
    assert read(client, crew["supervisor"], other_id)[0]["overdue"] is False
    overdue = client.get("/api/inspections?overdue=true", headers=crew["supervisor"]).json
    assert [f["id"] for f in overdue] == [finding_id]
    not_overdue = client.get("/api/inspections?overdue=false", headers=crew["supervisor"]).json
    assert [f["id"] for f in not_overdue] == [other_id]
    assert client.get("/api/inspections/stats", headers=crew["supervisor"]).json["overdue"] == 1
    responded = act(client, crew["enterprise"], finding_id, "respond", comment="Sorry, late.")
    assert responded.json["responded_late"] is True and responded.json["overdue"] is False
    assert responded.json["timeline"][-1]["late"] is True


def test_request_more_reopens_with_a_new_deadline(client, crew):
    finding_id = sent_finding(client, crew)
    act(client, crew["enterprise"], finding_id, "respond", comment="We bought it in good faith.",
        response_type="dispute")
    no_comment = act(client, crew["supervisor"], finding_id, "request_more")
    assert no_comment.status_code == 422
    again = act(client, crew["supervisor"], finding_id, "request_more", comment="Send the purchase contract.")
    assert again.json["status"] == "awaiting_response" and again.json["deadline"]
    assert act(client, crew["enterprise"], finding_id, "respond", comment="Contract attached.").status_code == 200
    final = act(client, crew["supervisor"], finding_id, "resolve", outcome="referred")
    assert [e["action"] for e in final.json["timeline"]] == [
        "submit", "confirm", "send_to_enterprise", "respond", "request_more", "respond", "resolve"]
    assert final.json["timeline"][3]["response_type"] == "dispute"


def test_respond_only_cites_documents_the_enterprise_attached(client, crew):
    finding_id = sent_finding(client, crew)
    inspector_photo = upload(client, crew["inspector"], finding_id, photo()).json["id"]
    response = act(client, crew["enterprise"], finding_id, "respond", comment="See photo.",
                   attachment_ids=[inspector_photo])
    assert response.status_code == 422
    assert response.json["errors"]["unknown"] == [inspector_photo]


def test_respond_needs_a_comment(client, crew):
    finding_id = sent_finding(client, crew)
    response = act(client, crew["enterprise"], finding_id, "respond")
    assert response.status_code == 422 and response.json["errors"]["field"] == "comment"


def test_allowed_actions_follow_the_state_machine():
    assert workflow.actions_from("submitted") == ["confirm", "dismiss"]
    assert workflow.actions_from("confirmed") == ["send_to_enterprise"]
    assert workflow.actions_from("awaiting_response") == ["respond"]
    assert workflow.actions_from("responded") == ["request_more", "resolve"]
    assert workflow.actions_from("resolved") == [] and workflow.actions_from("dismissed") == []
