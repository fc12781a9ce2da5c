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
    modular = []
    rows, problems = index_rows(Path(__file__).resolve().parents[2] / "results", modular)
    assert rows and not problems
    assert all(r["start"] for r in rows + modular if r["engine"] == "flip")


def test_a_mod_2_only_scheme_gets_its_own_section_never_the_proven_table(tmp_path):
    import numpy as np
    from algodiscover import Scheme, save
    from algodiscover.catalog.results import index_rows, write_index
    from tests.conftest import STRASSEN
    save(Scheme((2, 2, 2), **STRASSEN), tmp_path / "2x2x2-r7.json")
    # Strassen with every -1 written as 1: valid modulo 2, not over Z
    z2 = Scheme((2, 2, 2), **{k: np.asarray(v) % 2 for k, v in STRASSEN.items()})
    assert z2.verify(symbolic=False).ring == "Z2"
    save(z2, tmp_path / "2x2x2-r7-mod2.json")
    modular = []
    rows, problems = index_rows(tmp_path, modular)
    assert [r["file"] for r in rows] == ["2x2x2-r7.json"] and not problems
    assert [(r["file"], r["ring"]) for r in modular] == [("2x2x2-r7-mod2.json", "Z2")]
    rows2, problems2 = index_rows(tmp_path)  # without the list: a problem, as before
    assert len(rows2) == 1 and len(problems2) == 1
    text = write_index(tmp_path).read_text()
    proven, mod = text.split("## Valid modulo 2 or 3 only")
    assert "2x2x2-r7-mod2.json" not in proven and "| 2x2x2-r7-mod2.json" not in proven
    assert "[2x2x2-r7-mod2.json]" in mod and "| Z2 |" in mod


def test_the_repository_mod_2_target_is_listed_as_modular():
    from pathlib import Path
    from algodiscover.catalog.results import index_rows
    modular = []
    index_rows(Path(__file__).resolve().parents[2] / "results", modular)
    assert ("4x4x4-r47.json", "Z2", 47) in [(r["file"], r["ring"], r["rank"]) for r in modular]
