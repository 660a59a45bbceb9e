

def test_tree_hash_lists_files_and_ignores_snakemakes_timestamp(tmp_path):
    from llmrepro import io

    d = tmp_path / "out"
    (d / "sub").mkdir(parents=True)
    (d / "a.txt").write_text("a")
    (d / "sub" / "b.txt").write_text("b")
    before = io.tree_hash(d)
    assert sorted(before["files"]) == ["a.txt", "sub/b.txt"] and before["nfiles"] == 2
    (d / ".snakemake_timestamp").write_text("")  # Snakemake stamps finished directory outputs
    assert io.tree_hash(d) == before
    (d / "a.txt").write_text("A")
    assert io.tree_hash(d)["md5"] != before["md5"]


def test_pin_threads_makes_torch_deterministic_without_importing_inductor():
    # In a fresh interpreter: torch.use_deterministic_algorithms imports torch._inductor, 3 s of every
    # stage's start on a 2 GHz core; the runner sets the same eager switch without it.
    import subprocess
    import sys

    code = ("import sys, torch; from llmrepro.pipeline.runner import pin_threads; pin_threads(1); "
            "print(torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled(),"
            " torch.get_num_threads(), 'torch._inductor' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out == ["True", "True", "1", "False"]
