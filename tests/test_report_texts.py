"""The authority report's free-text section: shown only from k respondents, always escaped."""

from __future__ import annotations

from toolkit.reports import sections as S
from toolkit.store import Store, Submission


def test_free_texts_are_escaped_and_only_shown_from_k_respondents(demo_copy):
    store = Store(demo_copy)
    inst = store.instrument("competence_reflection")
    item = next(i.id for i in inst.items if i.type == "text")
    payload = "<script>alert(1)</script> mehr Zeit"
    store.submit(Submission("BVA", ("Zz", "3", "Q", "Xy"), "t2", inst.id, {"dt1": 3, item: payload}))
    store.close()
    bva = S.free_texts(S.authority_context(str(demo_copy), "BVA")).html()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; mehr Zeit" in bva and "<script>" not in bva
    assert "(t2)" in bva  # the latest wave with text
    small = S.free_texts(S.authority_context(str(demo_copy), "JKI")).html()  # JKI: fewer than 5 at t2
    assert "<li>" not in small and "anonym" in small
