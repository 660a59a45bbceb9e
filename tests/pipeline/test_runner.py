

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
