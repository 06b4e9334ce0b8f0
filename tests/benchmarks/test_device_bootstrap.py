"""benchmarks/device_bootstrap.sh assembles what several calls carried.

The lent GPU machine has no TensorFlow and takes 64 MiB a call, so the
install arrives as xz chunks (two archives in one stream) and is linked to
the machine's CUDA 13 libraries. This test plays both sides on a small
archive and a stand-in `nvidia` package laid out as on that machine.
"""

import io
import os
import subprocess
import tarfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "benchmarks", "device_bootstrap.sh")


def xz_archive(files):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_install_joins_the_chunks_and_links_cuda_13(tmp_path):
    stream = xz_archive({"gpulib/libcudart.so.12": b"cudart", "marker.py": b"VALUE = 7\n"})
    stream += xz_archive({"second.py": b"VALUE = 8\n"})  # the second archive
    chunks = tmp_path / "chunks"
    size = len(stream) // 3 + 1
    for i in range(3):
        (chunks / f"c{i:02d}").mkdir(parents=True)
        (chunks / f"c{i:02d}" / "part").write_bytes(stream[i * size:(i + 1) * size])
    nvidia = tmp_path / "image" / "nvidia"
    for lib in ("cu13/lib/libcublas.so.13", "cu13/lib/libcublasLt.so.13",
                "cudnn/lib/libcudnn.so.9"):
        (nvidia / lib).parent.mkdir(parents=True, exist_ok=True)
        (nvidia / lib).write_text(lib)
    (nvidia / "__init__.py").write_text("")
    site = tmp_path / "site"

    result = subprocess.run(
        ["bash", SCRIPT, "install", str(chunks)], capture_output=True, text=True,
        env={**os.environ, "SITE": str(site), "PYTHONPATH": str(tmp_path / "image"),
             "LD_LIBRARY_PATH": ""},
        timeout=120,
    )

    assert result.returncode == 0, result.stderr
    assert (site / "marker.py").read_text() == "VALUE = 7\n"
    assert (site / "second.py").read_text() == "VALUE = 8\n"
    assert (site / "gpulib" / "libcudart.so.12").read_text() == "cudart"
    for name in ("libcublas", "libcublasLt"):
        link = site / "gpulib" / f"{name}.so.12"
        assert os.readlink(link) == str(nvidia / "cu13" / "lib" / f"{name}.so.13")
    line = result.stdout.strip().splitlines()[-1]
    assert line.startswith(f"export PYTHONPATH={site} LD_LIBRARY_PATH={site}/gpulib:")
    paths = line.split("LD_LIBRARY_PATH=")[1].split(":")
    assert str(nvidia / "cu13" / "lib") in paths and str(nvidia / "cudnn" / "lib") in paths
