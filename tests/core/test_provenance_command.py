"""The command recorded in provenance is one a user can type again."""

from algodiscover.provenance import command_line


def test_console_script_keeps_its_name():
    assert command_line(["/venv/bin/discover", "--shape", "2x2x2", "--rank", "7"]) == "discover --shape 2x2x2 --rank 7"


def test_python_dash_m_is_recorded_as_such():
    argv = ["/work/repo/algodiscover/__main__.py", "discover", "--shape", "3x3x3", "--rank", "23"]
    assert command_line(argv) == "python -m algodiscover discover --shape 3x3x3 --rank 23"


def test_arguments_with_spaces_are_quoted():
    assert command_line(["discover", "--out", "my dir/"]) == "discover --out 'my dir/'"
