#!/usr/bin/env bash
# GPU inference bench, one command: `bash bench/gpu.sh [extra bench:inference args]`.
#
# On a machine with an NVIDIA GPU it checks what each GPU execution provider of onnxruntime-node
# needs, then runs the same `npm run bench:inference` as the CPU results (same model, utterances,
# baselines, interleaved rounds, same-round engine bound) with
#   * WebGPU (bundled with onnxruntime-node; Dawn runs on Vulkan on Linux, so it needs the Vulkan
#     loader libvulkan.so.1 and the NVIDIA ICD, nvidia_icd.json → libGLX_nvidia.so.0), and
#   * CUDA when its libraries are there (onnxruntime-node's CUDA EP binaries are not in the npm
#     package: `npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12`, or
#     ONNXRUNTIME_NODE_INSTALL=cuda12 at `npm ci`, where the network allows it; plus the CUDA 12
#     runtime, cuBLAS and cuDNN 9 on the library path).
# Results go next to the CPU ones: bench/results/inference-webgpu.csv/.json, inference-cuda.*, and
# the charts with the same suffix. Baseline B (transformers.js) stays on CPU in every run.
#
# Exit status: 0 when at least one GPU provider ran; 2 when this machine has no NVIDIA GPU (or
# nothing a GPU provider needs), with the reasons; the bench's own status if a run fails.
set -uo pipefail
cd "$(dirname "$0")/.."

say() { printf 'bench/gpu.sh: %s\n' "$*" >&2; }
fail() {
  say "$*"
  exit 2
}

# GPU pool configurations: a GPU wants bigger batches than the CPU's best (batch 8), and one or two
# sessions feeding it. Override with GPU_CONFIGS='[...]' (same form as bench:inference --configs).
CONFIGS=${GPU_CONFIGS:-'[{"sessions":1,"intra":1,"maxBatch":32},{"sessions":1,"intra":1,"maxBatch":64},{"sessions":2,"intra":1,"maxBatch":32}]'}
ROUNDS=${GPU_ROUNDS:-3}

# --- 1. an NVIDIA GPU and its driver ---------------------------------------------------------
command -v nvidia-smi >/dev/null 2>&1 || fail "no nvidia-smi: no NVIDIA driver on this machine, so no GPU to measure (the CPU results are bench/results/inference.*)"
gpus=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU ' || true)
[ "${gpus:-0}" -gt 0 ] || fail "nvidia-smi lists no GPU ($(nvidia-smi -L 2>&1 | head -n 1))"
say "GPU: $(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader | head -n 1)"

[ -f node_modules/onnxruntime-node/package.json ] || fail "node_modules/onnxruntime-node is missing: run npm ci first"
backends=$(node -e "console.log(require('onnxruntime-node').listSupportedBackends().map((b) => b.name).join(','))")
say "onnxruntime-node $(node -p "require('onnxruntime-node/package.json').version") lists: $backends"
ort_bin=$(dirname "$(node -p "require.resolve('onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node')" 2>/dev/null || echo node_modules/onnxruntime-node/bin/napi-v6/linux/x64/x)")

has_lib() { ldconfig -p 2>/dev/null | grep -q "$1" || { [ -n "${LD_LIBRARY_PATH:-}" ] && find ${LD_LIBRARY_PATH//:/ } -maxdepth 1 -name "$1*" 2>/dev/null | grep -q .; }; }

# --- 2. WebGPU: Vulkan loader + NVIDIA ICD ------------------------------------------------------
webgpu_ok=1
webgpu_why=()
[[ ",$backends," == *",webgpu,"* ]] || { webgpu_ok=0; webgpu_why+=("this onnxruntime-node build has no webgpu backend"); }
has_lib libvulkan.so.1 || { webgpu_ok=0; webgpu_why+=("no Vulkan loader (libvulkan.so.1: Debian package libvulkan1)"); }
icd=""
for f in ${VK_DRIVER_FILES:-} ${VK_ICD_FILENAMES:-} /usr/share/vulkan/icd.d/nvidia_icd*.json /etc/vulkan/icd.d/nvidia_icd*.json; do
  [ -f "$f" ] && { icd=$f; break; }
done
[ -n "$icd" ] || { webgpu_ok=0; webgpu_why+=("no NVIDIA Vulkan ICD (nvidia_icd.json in /usr/share/vulkan/icd.d or /etc/vulkan/icd.d, or VK_DRIVER_FILES)"); }
[ -z "$icd" ] || has_lib libGLX_nvidia.so.0 || { webgpu_ok=0; webgpu_why+=("the ICD $icd needs libGLX_nvidia.so.0 (the driver's user-space libraries)"); }
if command -v vulkaninfo >/dev/null 2>&1 && [ "$webgpu_ok" = 1 ]; then
  vulkaninfo --summary 2>/dev/null | grep -qi nvidia || say "warning: vulkaninfo does not list an NVIDIA device"
fi

# --- 3. CUDA: the EP binaries + CUDA 12 runtime, cuBLAS, cuDNN 9 -------------------------------
cuda_ok=1
cuda_why=()
[[ ",$backends," == *",cuda,"* ]] || { cuda_ok=0; cuda_why+=("this onnxruntime-node build has no cuda backend"); }
[ -f "$ort_bin/libonnxruntime_providers_cuda.so" ] && [ -f "$ort_bin/libonnxruntime_providers_shared.so" ] ||
  { cuda_ok=0; cuda_why+=("no CUDA EP binaries in $ort_bin (npm rebuild onnxruntime-node --onnxruntime-node-install=cuda12)"); }
for lib in libcudart.so.12 libcublas.so.12 libcublasLt.so.12 libcudnn.so.9; do
  has_lib "$lib" || { cuda_ok=0; cuda_why+=("no $lib on the library path"); }
done

[ "$webgpu_ok" = 1 ] || say "WebGPU will not run: $(printf "%s; " "${webgpu_why[@]}")"
[ "$cuda_ok" = 1 ] || say "CUDA will not run: $(printf "%s; " "${cuda_why[@]}")"
[ "$webgpu_ok" = 1 ] || [ "$cuda_ok" = 1 ] || fail "neither WebGPU nor CUDA can run here (reasons above); nothing measured"

# --- 4. the runs ----------------------------------------------------------------------------
status=0
ran=0
for provider in webgpu cuda; do
  ok_var="${provider}_ok"
  [ "${!ok_var}" = 1 ] || continue
  say "running: npm run bench:inference -- --provider $provider --tag $provider --configs '$CONFIGS' --rounds $ROUNDS $*"
  if npm run bench:inference -- --provider "$provider" --tag "$provider" --configs "$CONFIGS" --rounds "$ROUNDS" "$@"; then
    ran=$((ran + 1))
  else
    status=$?
    say "$provider run failed (exit $status); a provider that cannot start is an error, never a silent CPU run"
  fi
done
[ "$ran" -gt 0 ] || exit "${status:-1}"
say "done: $ran provider(s); files bench/results/inference-{webgpu,cuda}.* next to the CPU ones"
exit "$status"
