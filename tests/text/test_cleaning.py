from annotator.text.cleaning import (
    MENU_MIN_RUN,
    REPEATED_MIN_COUNT,
    clean_boilerplate,
)

ARTICLE = """Why EU sanctions on Russia are working, and what comes next
By Jane Doe, Senior Fellow

The EU's sanctions have cut Russia's oil revenue by a third since 2022.

Three reasons stand out:

1. Russia's economy is shrinking outside the war sector.
2. Import substitution has failed in high technology.
3. Capital flight continues.

Critics disagree.

"The sanctions have failed," one minister said (Reuters, 3 May 2024).
(Reuters, 3 May 2024)"""

NAV = ["PR Short Notes", "PR Comments", "Analysis", "Home", "Subscribe"]


def _pasted_page() -> str:
    top = "loader\nAnalysis\nEurope\nPhoto: Reuters\nImage credit Getty Images\n\n"
    bottom = "\n".join(NAV[i % len(NAV)] for i in range(300))
    return top + ARTICLE + "\n\n\n" + bottom + "\n"


def test_pasted_page_gives_back_only_the_article():
    cleaned, report = clean_boilerplate(_pasted_page())
    assert cleaned == ARTICLE
    assert report.changed


def test_report_counts_lines_per_rule():
    _, report = clean_boilerplate(_pasted_page())
    # 300 navigation lines plus "Analysis" at the top, which is also in the menu.
    assert report.reasons == {"chrome": 3, "repeated": 301, "menu": 1}
    assert report.removed_lines == 305
    assert report.removed_chars == len(_pasted_page()) - len(ARTICLE)
    assert "loader" in report.samples
    assert 0 < len(report.samples) <= 5


def test_clean_brief_is_returned_unchanged():
    brief = ARTICLE + "\n\n\nRecommendations\n\nThe EU should extend the oil price cap.\n"
    cleaned, report = clean_boilerplate(brief)
    assert cleaned is brief
    assert not report.changed
    assert report.reasons == {}


def test_short_headline_alone_above_the_text_is_kept():
    brief = "Sanctions Work\n\nThe oil price cap cut Russian revenue."
    cleaned, report = clean_boilerplate(brief)
    assert cleaned == brief
    assert not report.changed


def test_menu_at_top_is_removed_only_when_the_run_is_long_enough():
    short_run = "Home\nAnalysis\n" + ARTICLE
    assert MENU_MIN_RUN > 2
    assert clean_boilerplate(short_run)[0] == short_run
    long_run = "Home\nAnalysis\nEurope\n" + ARTICLE
    assert clean_boilerplate(long_run)[0] == ARTICLE


def test_repeated_short_paragraph_with_punctuation_is_kept():
    text = "Act now.\n\nWe argue so.\n\nAct now.\n\nMore reasons.\n\nAct now."
    cleaned, report = clean_boilerplate(text)
    assert cleaned == text
    assert not report.changed


def test_numbered_reasons_and_citations_survive_the_trailing_menu():
    article = "A brief about tariffs and trade.\n\n1. Tariffs\n2. Quotas\n(WTO, 2023)"
    text = article + "\nHome\nAbout\nContact"
    cleaned, _ = clean_boilerplate(text)
    assert cleaned == article


def test_line_repeated_fewer_times_than_threshold_is_kept():
    line = "Key figures"
    text = "\n\n".join(
        [f"{line}", "Oil revenue fell by a third.", f"{line}", "Gas exports halved."]
    )
    assert REPEATED_MIN_COUNT == 3
    assert clean_boilerplate(text)[0] == text


def test_chrome_in_the_middle_is_removed_and_blank_lines_collapsed():
    text = "First paragraph of the brief.\n\nAdvertisement\n\nSecond paragraph of the brief."
    cleaned, report = clean_boilerplate(text)
    assert cleaned == "First paragraph of the brief.\n\nSecond paragraph of the brief."
    assert report.reasons == {"chrome": 1}


def test_photo_pattern_does_not_remove_prose_that_starts_like_a_credit():
    text = "Picture this: a Europe without Russian gas by 2027, and prices that fall"
    assert clean_boilerplate(text)[0] == text


def test_text_made_only_of_short_lines_is_kept_rather_than_emptied():
    text = "Buy milk\nCall Bob\nFix bike"
    cleaned, report = clean_boilerplate(text)
    assert cleaned == text
    assert not report.changed
