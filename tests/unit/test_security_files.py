import os

from pbx.security.files import lock_down


def test_lock_down_makes_old_data_owner_only_and_leaves_symlinks(tmp_path):
    data = tmp_path / "var"
    (data / "recordings" / "1").mkdir(parents=True)
    secret = data / "pbx.sqlite3"
    secret.write_text("x")
    secret.chmod(0o644)
    (data / "recordings" / "1").chmod(0o755)
    outside = tmp_path / "outside"
    outside.write_text("y")
    outside.chmod(0o644)
    os.symlink(outside, data / "link")
    lock_down(data, tmp_path / "missing")
    assert data.stat().st_mode & 0o777 == 0o700
    assert secret.stat().st_mode & 0o777 == 0o600
    assert (data / "recordings" / "1").stat().st_mode & 0o777 == 0o700
    assert outside.stat().st_mode & 0o777 == 0o644  # not followed
