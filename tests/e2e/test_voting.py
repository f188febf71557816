"""The implementation workshop's prioritisation in a real browser.

Phones dot-vote with their thumbs; the projector shows the number of ballots,
then the server-rendered chart once the facilitator publishes; then the
ranking, which starts empty on every phone (a thumb ranks with "Rangér" and
"Til toppen", a keyboard the same way), with time horizons and owners, whose
order the next step shows.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from tests.e2e.conftest import DemoServer, shot
from tests.e2e.journeys import LAPTOP, PROJECTOR, join_phone, login

pytestmark = pytest.mark.browser

TYPED = "Færre skift af sagsbehandler"


def create_workshop(fac: Page, demo: DemoServer) -> tuple[str, str]:
    fac.goto(demo.base + "/facilitator")
    form = fac.locator("form[action='/facilitator/sessions']").first
    form.locator("select[name=script_id]").select_option("implementeringsworkshop")
    form.locator("button").click()
    fac.wait_for_url(re.compile(r".*/facilitator/sessions/\w+$"))
    code = fac.locator(".topbar-code .code").inner_text()
    projector = fac.locator("a[target=tovholder-projector]").get_attribute("href")
    assert projector
    return code, demo.base + projector


def go_to(fac: Page, title: str) -> None:
    fac.locator("#f-steps button", has_text=title).click()
    expect(fac.locator("#f-stage .stage-title")).to_have_text(title)


def poll_button(fac: Page, message: str) -> None:
    fac.locator(f"#f-stage .poll-panel button[hx-vals*='\"{message}\"']").first.click()


def dots_left(n: int) -> re.Pattern[str]:
    """ "3 af 5 prikker tilbage" (or the English, before the catalog has it)."""
    return re.compile(rf"^{n} (af|of) 5 (prikker tilbage|dots left)$")


def dots(phone: Page, row: int, clicks: int) -> None:
    button = phone.locator(".dot-row").nth(row).locator("[data-dot='1']")
    for _ in range(clicks):
        button.click()


def unranked(phone: Page, label: str) -> Locator:
    return phone.locator(".rank-pool .rank-row", has_text=label)


def in_ranking(phone: Page, label: str) -> Locator:
    return phone.locator(".rank-list .rank-row", has_text=label)


def frame(phone: Page, selector: str) -> None:
    """Scroll so that `selector` is just below the phone's sticky top bar (for a shot)."""
    phone.locator(selector).first.evaluate(
        "e => window.scrollTo(0, e.getBoundingClientRect().top + window.scrollY - 72)"
    )


def expect_ranking(phone: Page, labels: list[str]) -> None:
    expect(phone.locator(".rank-list .rank-row .rank-label")).to_have_text(labels)


def test_phones_dot_vote_and_the_wall_shows_the_count_then_the_chart(
    browser: Browser, demo: DemoServer
) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    fac.on("dialog", lambda dialog: dialog.accept())  # "Close the vote?"
    login(fac, demo)
    code, projector_url = create_workshop(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(projector_url)
    here = DemoServer(**{**demo.__dict__, "code": code})
    phones = [join_phone(browser, here, name) for name in ("Sara", "Mads", "")]
    expect(fac.locator("#f-people .person")).to_have_count(3)
    fac.click("#f-status button")

    # The dot vote takes its options from the engagement's focus areas (the
    # demo has ten). Keep three and type one in, so the draft's controls are used.
    go_to(fac, "Hvad er vigtigst?")
    panel = fac.locator("#f-stage .poll-panel")
    expect(panel).to_have_attribute("data-status", "draft")
    options = panel.locator(".poll-options li:not(.empty)")
    found = options.count()
    if found < 3:  # an engagement without focus areas yet: type them in
        for i in range(found, 3):
            panel.locator(".poll-add input[name=label]").fill(f"Indsatsområde {i + 1}")
            panel.locator(".poll-add button").click()
            expect(options).to_have_count(i + 1)
    while options.count() > 3:
        n = options.count()
        options.last.locator("button").click()
        expect(options).to_have_count(n - 1)
    panel.locator(".poll-add input[name=label]").fill(TYPED)
    panel.locator(".poll-add button").click()
    expect(options).to_have_count(4)
    areas = [t.replace("✕", "").strip() for t in options.all_inner_texts()]
    assert areas[3] == TYPED
    shot(fac, "voting-facilitator-draft")
    poll_button(fac, "open_poll")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("0")

    # Sara: 3 on the first (the most one option takes), 2 on the third.
    sara = phones[0]
    expect(sara.locator("form[data-ballot=dot] .dot-row")).to_have_count(4)
    expect(sara.locator("[data-dots-left]")).to_have_text(dots_left(5))
    dots(sara, 0, 3)
    expect(sara.locator(".dot-row").nth(0).locator("[data-dot='1']")).to_be_disabled()
    dots(sara, 2, 1)
    expect(sara.locator("[data-dots-left]")).to_have_text(dots_left(1))
    expect(sara.locator(".ballot-state")).to_have_attribute("data-state", "unsaved")
    shot(sara, "voting-phone-dots")
    box = sara.locator(".dot-row").nth(1).locator("[data-dot='1']").bounding_box()
    assert box and box["width"] >= 44 and box["height"] >= 44  # one thumb
    sara.locator(".ballot-send").click()
    expect(sara.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("1")
    dots(sara, 2, 1)  # a change of mind while open: the same ballot, replaced
    sara.locator(".ballot-send").click()
    expect(sara.locator("[data-dots-left]")).to_have_text(dots_left(0))
    expect(sara.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    shot(sara, "voting-phone-saved")

    for phone, plan in ((phones[1], [(1, 3), (0, 2)]), (phones[2], [(3, 2), (1, 3)])):
        for row, clicks in plan:
            dots(phone, row, clicks)
        phone.locator(".ballot-send").click()
        expect(phone.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("3")
    expect(wall.locator("svg")).to_have_count(0)  # no result while open
    shot(wall, "voting-projector-count")
    expect(fac.locator("#f-poll-live .poll-count-n")).to_have_text("3")

    poll_button(fac, "close_poll")
    for phone in phones:
        expect(phone.locator(".m-poll")).to_have_attribute("data-status", "closed")
    expect(wall.locator("svg")).to_have_count(0)  # closed, not yet shown
    shot(fac, "voting-facilitator-closed")
    poll_button(fac, "publish_poll")
    chart = wall.locator(".p-chart svg")
    expect(chart).to_be_visible()
    # Counted: A 3+2=5, B 3+3=6, C 2, D 2 -> B, A, then C and D share third place.
    expect(wall.locator(".p-chart desc")).to_contain_text(f"1. {areas[1]}: 6")
    shared = f"3. {areas[2]}: 2; 3. {TYPED}: 2"  # the same place, and no "tied" flag:
    expect(wall.locator(".p-chart desc")).to_contain_text(shared)  # third place decides nothing
    shot(wall, "voting-projector-chart")
    expect(phones[1].locator(".m-chart svg")).to_be_visible()
    shot(phones[1], "voting-phone-result")
    expect(fac.locator("#f-stage .tie-box")).to_have_count(0)  # so no runoff is offered
    expect(fac.locator("#f-stage .result-table .tie")).to_have_count(0)

    # The ranking: every focus area, plus what the dot vote had that the focus
    # areas do not (the typed one), added from the earlier vote a click each.
    go_to(fac, "Prioritering og tidsperspektiv")
    panel = fac.locator("#f-stage .poll-panel")
    options = panel.locator(".poll-options li:not(.empty)")
    panel.locator(".poll-candidates summary").click()
    for area in areas:
        have = [t.replace("✕", "").strip() for t in options.all_inner_texts()]
        if area not in have:
            panel.locator(".poll-candidates button", has_text=area).click()
            expect(options).to_have_count(len(have) + 1)
    if panel.locator(".poll-candidates").count():  # still open after the re-renders
        expect(panel.locator(".poll-candidates")).to_have_attribute("open", "")
    ranked = [t.replace("✕", "").strip() for t in options.all_inner_texts()]
    poll_button(fac, "open_poll")
    sara, mads, third = phones
    for phone in phones:  # nothing ranked yet, so there is nothing to send
        expect(phone.locator("form[data-ballot=rank] .rank-pool .rank-row")).to_have_count(
            len(ranked)
        )
        expect(phone.locator(".rank-list .rank-row")).to_have_count(0)
        expect(phone.locator(".ballot-send")).to_be_disabled()
    frame(sara, ".ballot-rank .hint")
    shot(sara, "voting-phone-rank-empty")

    # Sara ranks three with "Rangér", then puts the third at the top in one step.
    for i in range(3):
        unranked(sara, ranked[i]).locator("[data-rank='add']").click()
    expect(sara.locator(".rank-list .rank-row")).to_have_count(3)
    expect(sara.locator(".ballot-send")).to_be_enabled()
    frame(sara, ".rank-list")
    shot(sara, "voting-phone-rank-three")
    in_ranking(sara, ranked[2]).locator("[data-rank='top']").click()
    expect_ranking(sara, [ranked[2], ranked[0], ranked[1]])
    # A screen reader hears where it went (the one live region, #announce).
    expect(sara.locator("#announce")).to_have_text(
        re.compile(rf"^{re.escape(ranked[2])} (er nummer|is number) 1 ")
    )
    expect(sara.locator(".rank-list .rank-row").first.locator(".rank-pos")).to_have_text("1")
    expect(sara.locator(".rank-list .rank-row").first.locator("[data-rank='top']")).to_be_disabled()
    top = sara.locator(".rank-list .rank-row").nth(1).locator("[data-rank='top']").bounding_box()
    assert top and top["height"] >= 44  # one thumb
    width = sara.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 360, width  # nothing sticks out of a 360 px phone
    frame(sara, ".rank-list")
    shot(sara, "voting-phone-rank-top")
    sara.locator(".ballot-send").click()
    expect(sara.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect_ranking(sara, [ranked[2], ranked[0], ranked[1]])  # as the server stored it
    frame(sara, ".ballot-rank .rank-head")
    shot(sara, "voting-phone-rank-saved")

    # Mads taps one option itself (not its button): a ranking of one is a ballot.
    unranked(mads, ranked[2]).locator(".rank-label").click()
    expect_ranking(mads, [ranked[2]])
    mads.locator(".ballot-send").click()
    expect(mads.locator(".ballot-state")).to_have_attribute("data-state", "saved")

    # The third phone uses the keyboard only: Rangér, Rangér, Fjern, Rangér.
    add = unranked(third, ranked[1]).locator("[data-rank='add']")
    add.focus()
    third.keyboard.press("Enter")
    focused = third.evaluate("() => document.activeElement.closest('.rank-row').dataset.option")
    expect(third.locator(".rank-pool .rank-row").first).to_contain_text(ranked[0])
    assert focused == third.locator(".rank-pool .rank-row").nth(1).get_attribute("data-option")
    unranked(third, ranked[2]).locator("[data-rank='add']").focus()
    third.keyboard.press("Enter")
    in_ranking(third, ranked[1]).locator("[data-rank='remove']").focus()
    third.keyboard.press("Enter")
    expect_ranking(third, [ranked[2]])
    expect(third.locator(".ballot-state")).to_have_attribute("data-state", "unsaved")
    in_ranking(third, ranked[2]).locator("[data-rank='remove']").focus()
    third.keyboard.press("Enter")  # back to nothing: nothing to send
    expect(third.locator(".ballot-send")).to_be_disabled()
    expect(third.locator(".ballot-state")).to_have_attribute("data-state", "empty")
    for area in (ranked[2], ranked[0]):
        unranked(third, area).locator("[data-rank='add']").focus()
        third.keyboard.press("Space")
    expect_ranking(third, [ranked[2], ranked[0]])
    third.locator(".ballot-send").click()
    expect(third.locator(".ballot-state")).to_have_attribute("data-state", "saved")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("3")

    # Counted from what was ranked only (k = all options): the third area
    # first on all three ballots, then the first area (twice second), then the
    # second (once third); every other area got nothing and is in no tie.
    k = len(ranked)
    poll_button(fac, "close_poll")
    table = fac.locator("#f-stage .result-table")
    expect(table.locator("tbody td.option")).to_have_text(
        [ranked[2], ranked[0], ranked[1], *(a for a in ranked if a not in ranked[:3])]
    )
    points = table.locator("tbody tr td.num:nth-child(3)")
    expect(points).to_have_text([str(3 * k), str(2 * (k - 1)), str(k - 2)] + ["0"] * (k - 3))
    expect(table.locator("thead th")).to_have_count(3 + 3 + 1)  # places 1-3, "not ranked"
    expect(fac.locator("#f-stage .tie-box")).to_have_count(0)
    expect(table.locator(".tie")).to_have_count(0)
    horizons = fac.locator("#f-stage .horizon-form")
    expect(horizons).to_have_count(len(ranked))
    expect(horizons.nth(0)).to_contain_text(ranked[2])
    horizons.nth(0).locator("select").select_option("short")
    horizons.nth(0).locator("input[name=owner]").fill("Afdelingsleder Mette")
    horizons.nth(0).locator("button").click()
    expect(fac.locator("#f-stage .horizon-form").nth(0).locator(".saved-mark")).to_be_visible()
    expect(fac.locator("#f-stage .horizon-form").nth(0).locator("input[name=owner]")).to_have_value(
        "Afdelingsleder Mette"
    )
    shot(fac, "voting-facilitator-horizons")
    poll_button(fac, "publish_poll")
    expect(wall.locator(".result-table-big")).to_be_visible()  # how each area was ranked
    desc = wall.locator(".p-chart desc")
    expect(desc).to_contain_text(f"1. {ranked[2]}: {3 * k}; 2. {ranked[0]}: {2 * (k - 1)}")
    expect(desc).to_contain_text(f"3. {ranked[1]}: {k - 2}; 4. {ranked[3]}: 0; 4.")
    expect(wall.locator(".p-caption")).not_to_contain_text("(")  # no "tied" note
    first = wall.locator(".result-table-big tbody tr").first
    expect(first.locator("td.num")).to_have_text(["3", "0", "0", "0"])  # 3 firsts, none left out
    shot(wall, "voting-projector-rank")

    # The next step builds on the counted order, with horizon and owner.
    go_to(fac, "Frokost")
    prio = fac.locator("#f-stage .prioritisation")
    expect(prio.locator("li").first).to_contain_text(ranked[2])
    expect(prio.locator("li").first).to_contain_text("Afdelingsleder Mette")
    shot(fac, "voting-facilitator-next-step")


# A frame sent into a connection that is already dead (the wifi dropped a
# moment ago, and neither end knows yet) never arrives: this drops the phone's
# ballots while `window.deadLine` is set, before they reach the network.
LOSE_BALLOTS = """() => {
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (window.deadLine && String(data).includes('"cast_ballot"')) return;
    return send.call(this, data);
  };
}"""


def test_bad_wifi_a_ballot_sent_while_dropping_is_saved_once(
    browser: Browser, demo: DemoServer
) -> None:
    fac = browser.new_context(viewport=LAPTOP).new_page()
    fac.on("dialog", lambda dialog: dialog.accept())
    login(fac, demo)
    code, projector_url = create_workshop(fac, demo)
    wall = browser.new_context(viewport=PROJECTOR).new_page()
    wall.goto(projector_url)
    here = DemoServer(**{**demo.__dict__, "code": code})
    steady, dropped, offline = (join_phone(browser, here, n) for n in ("Grethe", "Per", "Kim"))
    fac.click("#f-status button")
    go_to(fac, "Hvad er vigtigst?")
    poll_button(fac, "open_poll")
    # all_inner_texts() does not wait: the ballot form must be on the phone first.
    expect(steady.locator(".dot-row .dot-label").nth(2)).to_be_visible()
    labels = [t.strip() for t in steady.locator(".dot-row .dot-label").all_inner_texts()]
    dots(steady, 0, 1)
    steady.locator(".ballot-send").click()
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("1")

    # Per votes just as his wifi drops: the ballot goes into a dead connection.
    dots(dropped, 1, 2)
    dropped.evaluate(LOSE_BALLOTS)
    dropped.evaluate("() => { window.deadLine = true; }")
    dropped.locator(".ballot-send").click()
    dropped.context.set_offline(True)
    # Kim is offline already when he votes.
    offline.context.set_offline(True)
    for phone in (dropped, offline):
        expect(phone.locator(".conn")).to_have_attribute("data-state", "offline")
    dots(offline, 2, 1)
    offline.locator(".ballot-send").click()
    for phone in (dropped, offline):
        expect(phone.locator(".ballot-state")).to_have_attribute("data-state", "sending")
    shot(dropped, "wifi-phone-offline-sending")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("1")

    # The room moves on without them.
    go_to(fac, "Prioritering og tidsperspektiv")
    expect(wall.locator("#p-stage .p-title")).to_have_text("Prioritering og tidsperspektiv")

    dropped.evaluate("() => { window.deadLine = false; }")
    for phone in (dropped, offline):
        phone.context.set_offline(False)
    for phone in (dropped, offline):
        expect(phone.locator(".conn")).to_have_attribute("data-state", "online", timeout=10_000)
        expect(phone.locator("#m-stage .m-title")).to_have_text("Prioritering og tidsperspektiv")
    shot(dropped, "wifi-phone-back-current-step")

    # Back at the dot vote: three ballots, each phone's saved with its own dots.
    go_to(fac, "Hvad er vigtigst?")
    expect(fac.locator("#f-poll-live .poll-count-n")).to_have_text("3")
    expect(wall.locator("#p-poll-count .p-count-n")).to_have_text("3")
    for phone, row, n in ((dropped, 1, 2), (offline, 2, 1)):
        expect(phone.locator(".ballot-state")).to_have_attribute("data-state", "saved")
        expect(phone.locator(".dot-row").nth(row)).to_have_attribute("data-count", str(n))
    shot(offline, "wifi-phone-saved")
    poll_button(fac, "close_poll")
    poll_button(fac, "publish_poll")
    desc = wall.locator(".p-chart desc")
    expect(desc).to_contain_text(f"1. {labels[1]}: 2")
    expect(desc).to_contain_text(re.compile(rf"{re.escape(labels[0])}: 1\b"))
    expect(desc).to_contain_text(re.compile(rf"{re.escape(labels[2])}: 1\b"))

    # And the minutes count each ballot once.
    session = fac.url.rsplit("/", 1)[1]
    fac.goto(f"{demo.base}/facilitator/sessions/{session}")
    markdown = fac.request.get(f"{demo.base}/facilitator/sessions/{session}/minutes.md").text()
    dot_part = markdown.split("Fordel dine 5 prikker", 1)[1].split("###", 1)[0]
    assert re.search(r"Afgivne stemmer\D{0,12}3\b", dot_part), dot_part
