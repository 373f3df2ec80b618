#!/usr/bin/env bash
# The GPU check, in one run on a CUDA machine: every test variant that needs CUDA, then
# benchmarks/bench_gpu.py. Written for a machine that already has torch (CUDA), pytest, hypothesis,
# numpy, click, Pillow, OpenCV and JAX (the device tool's H200 image has them; TensorFlow is not
# needed): the library runs from src/, nothing is installed. Logs and the "## GPU" section go to
# $OUT (the device tool's folder), else ./gpu-check/. Copy the section into docs/benchmarks.md.
#
#   bash scripts/gpu_check.sh            # a few minutes (not yet run on a GPU: none was lent so far)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check}"
mkdir -p "$out"
export PYTHONPATH="$PWD/src:$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python="${PYTHON:-python3}"
"$python" -c "import torch; assert torch.cuda.is_available(), 'no CUDA GPU here'; print(torch.__version__, torch.cuda.get_device_name())" || exit 1
# The CUDA variants: ids and names with "cuda" in them (the device fixture's [cuda] cases and the CUDA-only tests).
"$python" -m pytest -q -p no:cacheprovider -k cuda -o addopts="--import-mode=importlib -ra" \
    tests/test_bands.py tests/test_determinism.py tests/nn tests/fold/test_fold_device.py tests/fold/test_exactness.py \
    tests/fold/test_api.py tests/parity/test_torch.py tests/parity/test_pillow.py tests/parity/test_opencv.py \
    tests/parity/test_jax.py 2>&1 | tee "$out/tests.log"
tests=${PIPESTATUS[0]}
"$python" benchmarks/bench_gpu.py --out "$out/benchmarks.md" 2>&1 | tee "$out/bench.log"
bench=${PIPESTATUS[0]}
echo "tests exit $tests, benchmark exit $bench; results in $out/"
exit $(( tests != 0 || bench != 0 ))
