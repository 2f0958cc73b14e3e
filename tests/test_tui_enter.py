"""Enter in Formulate reads the form once and looks the results pane's lines up once a frame
(issue 12: a keystroke within one frame). Counts, never seconds
(benchmarks/keystroke_benchmark.py times them)."""

from __future__ import annotations

from compound.tui.app import CompoundApp
from compound.tui.widgets.plan import PlanForm, PlanResults
from compound.tui.widgets.plan.field import PlanField

VALUES = {"strength": "4.5mg", "count": "30", "tablet_weight": "200mg", "fill_weight": "100mg"}


def counting(monkeypatch, owner: type, name: str) -> list[object]:
    calls: list[object] = []
    original = getattr(owner, name)

    def counted(obj, *args, **kwargs):
        calls.append(obj)
        return original(obj, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


async def entered(pilot, monkeypatch, owner: type, name: str) -> tuple[PlanResults, list[object]]:
    """The form filled, then Enter in the strength field, ``owner.name`` counted for it."""
    screen = pilot.app.screen
    for field, value in VALUES.items():
        screen.query_one(f"#capsules-{field}").value = value
    screen.query_one("#capsules-strength").focus()
    await pilot.pause()
    calls = counting(monkeypatch, owner, name)
    await pilot.press("enter")
    await pilot.pause()
    return screen.query_one("#capsules-results", PlanResults), calls


async def test_enter_reads_the_forms_values_not_once_per_field(monkeypatch):
    # Every field is revalidated; only a dose in drops reads the other fields (its
    # calibration), so the fields are read for what applies and for the plan, not once more
    # for each field validated (24 fields: 240 reads).
    reads: list[str] = []
    value = PlanField.value

    def read(field: PlanField) -> str | bool:
        reads.append(field.spec.name)
        return value.fget(field)  # type: ignore[attr-defined]

    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        fields = len(pilot.app.screen.query_one("#capsules-form", PlanForm).fields())
        monkeypatch.setattr(PlanField, "value", property(read))
        results, _ = await entered(pilot, monkeypatch, PlanForm, "submit")
        assert results.plan is not None and results.plan.inputs["strength"] == "4.5mg"
        assert fields > 10 and 0 < len(reads) <= 2 * fields


async def test_a_frame_looks_the_panes_lines_up_once(monkeypatch):
    # The pane's lines depend on its width and styles (looked up from the DOM): a frame looks
    # them up once for all the lines in view, not once a line. Counted per frame drawn: how many
    # frames a busy machine draws after Enter varies, what each one does does not.
    app = CompoundApp()
    async with app.run_test(size=(100, 30)) as pilot:
        lookups = counting(monkeypatch, PlanResults, "_lines")
        frames: list[int] = []  # per frame drawn, the lookups made while its lines were drawn
        render_lines = PlanResults.render_lines

        def frame(results, crop):
            before = len(lookups)
            try:
                return render_lines(results, crop)
            finally:
                frames.append(len(lookups) - before)

        monkeypatch.setattr(PlanResults, "render_lines", frame)
        results, _ = await entered(pilot, monkeypatch, PlanForm, "submit")
        assert results.plan is not None
        in_view = results.scrollable_content_region.height
        assert in_view > 10 and results.text("working")
        assert frames and set(frames) == {1}  # each frame drawn: one lookup for its ~26 lines
