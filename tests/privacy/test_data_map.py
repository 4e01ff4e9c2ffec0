"""The personal data map covers every stored document type, and says something sound
about each (pure: nothing connects)."""

from __future__ import annotations

from beanie import PydanticObjectId

from domain.audit.documents import AuditEvent
from domain.documents import DOCUMENT_MODELS
from domain.privacy.data_map import PERSONAL_DATA, Handling, Subject, entry_for

SUBJECT = Subject(
    user_id=PydanticObjectId("65f000000000000000000001"),
    email="ada@example.com",
    pseudonym="erased:abc",
)


def test_every_document_model_has_an_entry() -> None:
    """A collection added to domain/documents.py fails here until the map says how a
    person's records in it are found, exported and erased."""
    missing = [model.__name__ for model in DOCUMENT_MODELS if entry_for(model) is None]
    assert not missing, f"add these to domain/privacy/data_map.py: {missing}"


def test_every_entry_is_a_stored_model_once() -> None:
    models = [entry.model for entry in PERSONAL_DATA]
    assert len(models) == len(set(models))
    assert set(models) <= set(DOCUMENT_MODELS)


def test_personal_entries_find_the_person_and_export_real_fields() -> None:
    for entry in PERSONAL_DATA:
        if entry.handling is Handling.NOT_PERSONAL:
            assert entry.find is None
            assert not entry.export
            assert entry.why
            assert entry.erasure_steps(SUBJECT) == []
            continue
        assert entry.find is not None, entry.model.__name__
        assert entry.erasure_steps(SUBJECT), entry.model.__name__
        fields = {name for name in entry.model.model_fields} | {"_id"}
        unknown = set(entry.export) - fields
        assert not unknown, (entry.model.__name__, unknown)


def test_secrets_are_never_exported() -> None:
    secret_markers = ("hash", "secret", "public_key", "provider_tokens", "sealed", "password_h")
    for entry in PERSONAL_DATA:
        for field in entry.export:
            assert not any(marker in field for marker in secret_markers), (entry.model, field)


def test_the_account_goes_last_and_kept_records_lose_the_person() -> None:
    personal = [e for e in PERSONAL_DATA if e.handling is not Handling.NOT_PERSONAL]
    assert personal[-1].model.__name__ == "User"
    # By model: the collection's name needs Beanie set up, which this pure module skips.
    audit = next(e for e in PERSONAL_DATA if e.model is AuditEvent)
    steps = audit.erasure_steps(SUBJECT)
    updates = str([update for _, update in steps])
    assert SUBJECT.pseudonym in updates
    assert str(SUBJECT.user_id) not in updates
