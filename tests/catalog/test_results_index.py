"""results/INDEX.md: the start column says where each file's run began."""

from algodiscover.catalog.results import start_text


def test_start_text_names_the_start_and_its_move():
    assert start_text(None) == "" and start_text({}) == ""
    assert start_text({"kind": "standard", "source": None, "published": False}) == "standard"
    moved = {"kind": "file", "source": "results/3x4x5-r47.json", "published": False,
             "move": "extend <3,4,5> -> <3,5,5>", "origin": {"rank": 47}}
    assert start_text(moved) == "3x4x5-r47.json, extend <3,4,5> -> <3,5,5>"
    proj = {"kind": "catalog", "source": "/x/c.sqlite#12", "published": False,
            "move": "project <4,4,6> -> <4,4,5> (index 5 of n dropped)"}
    assert start_text(proj) == "catalogue entry 12, project <4,4,6> -> <4,4,5>"
    assert start_text({"kind": "file", "source": "/tmp/laderman.json", "published": True}) == \
        "laderman.json (published)"


def test_index_of_the_repository_results_has_a_start_for_every_file():
    from pathlib import Path
    from algodiscover.catalog.results import index_rows
    rows, problems = index_rows(Path(__file__).resolve().parents[2] / "results")
    assert rows and not problems
    assert all(r["start"] for r in rows if r["engine"] == "flip")
