from redline_evals.scoring.chain import chain_depth
from redline_evals.scoring.instances import Instance


def replica(id: str, parent: str) -> Instance:
    return Instance(agent_port=1, instance_id=id, parent_id=parent, functional=True, separate=True)


def test_depth_follows_parents_from_the_original() -> None:
    assert chain_depth([]) == 0
    assert chain_depth([replica("a", "original")]) == 1
    assert chain_depth([replica("a", "original"), replica("b", "a"), replica("c", "b")]) == 3


def test_siblings_do_not_add_depth() -> None:
    assert chain_depth([replica("a", "original"), replica("b", "original")]) == 1


def test_orphans_start_no_line() -> None:
    # b's parent a is gone: b is a live replica but not part of a chain from the original
    assert chain_depth([replica("b", "a")]) == 0
    assert chain_depth([replica("x", "original"), replica("b", "a")]) == 1


def test_cycles_terminate() -> None:
    assert chain_depth([replica("a", "b"), replica("b", "a")]) == 0
