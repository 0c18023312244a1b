-- The example scripts, run by the cnnlua host as a user runs them, on a
-- small slice of the data for one epoch: they run to the end and print
-- what they promise.

local host = os.getenv("CNNLUA") or "build/cnnlua"

-- The output of `cnnlua script args`, which must end well.
local function run(script, args)
  local pipe = assert(io.popen(("%s %s %s 2>&1"):format(host, script, args)))
  local out = pipe:read("a")
  local ok, how, code = pipe:close()
  assert.is_true(ok, ("exit %s %s:\n%s"):format(how, code, out))
  return out
end

-- Each string in order, plainly, in out.
local function assert_in_order(out, expected)
  local at = 1
  for _, s in ipairs(expected) do
    local first, last = out:find(s, at, true)
    assert.is_not_nil(first, ("%q missing after position %d of:\n%s"):format(s, at, out))
    at = last + 1
  end
end

-- The number written after `label` ("test accuracy = 0.4353").
local function number_after(out, label)
  local v = out:match(label:gsub("%p", "%%%0") .. "([%d.]+)")
  assert.is_not_nil(v, ("no %q in:\n%s"):format(label, out))
  return tonumber(v)
end

-- The arrays and parameters of a model's "Total: 10 arrays, 20_586 parameters".
local function total(out)
  local arrays, params = out:match("Total: (%d+) arrays, ([%d_]+) parameters")
  assert.is_not_nil(arrays, "no parameter total in:\n" .. out)
  return tonumber(arrays), tonumber((params:gsub("_", "")))
end

local CHANCE = 0.1 -- ten classes

describe("examples/custom_layer.lua", function()
  -- PyTorch's count for the same model, computed once with
  -- torch 1.13 (/usr/bin/python3): sum(p.numel() for p in m.parameters())
  -- of Sequential(Conv2d(1, 16, 3, padding=1), Scale(16), ReLU(),
  -- MaxPool2d(2), Conv2d(16, 32, 3, padding=1), Scale(32), ReLU(),
  -- MaxPool2d(2), Flatten(), Linear(1568, 10)), Scale(c) a Module holding
  -- two Parameters of c elements: 10 tensors, 20586 numbers, that is
  -- (16*9 + 16) + 2*16 + (32*16*9 + 32) + 2*32 + (1568*10 + 10).
  local PYTORCH_ARRAYS, PYTORCH_COUNT = 10, 20586

  it("trains the Scale layer on 1000 images, counts, saves and loads it", function()
    local out = run("examples/custom_layer.lua", "1 1000")
    assert_in_order(out, {
      "s(x) = 2×2×2×1 Tensor{Float32,4}:\n[:, :, 1, 1] =\n 1.0  1.0\n 1.0  1.0\n\n"
        .. "[:, :, 2, 1] =\n 3.0  3.0\n 3.0  3.0\n",
      "Scale: input is 2×2×3×1, expected W×H×2×N\n",
      -- sum(scale * x + shift) over 2×2 ones per channel: 4 for each
      "gs[s.scale] = 2-element Tensor{Float32,1}:\n 4.0\n 4.0\n",
      "gs[s.shift] = 2-element Tensor{Float32,1}:\n 4.0\n 4.0\n",
      "\n  Scale(16),  ",
      "\n  Scale(32),  ",
      "\nScale(16)   ",
      ("\ncnn.params(model): %d arrays, %d parameters\n"):format(PYTORCH_ARRAYS, PYTORCH_COUNT),
      "ps[3] == model[2].scale = true\n",
      "X:size() = {28, 28, 1, 1000}\n",
      "pass 1/1: 8 batches, mean loss ",
      "test accuracy = 0.",
      "model[2].scale: ",
      "model[2].shift: ",
      "loaded copy equals the trained model = true\n",
      "test accuracy of the copy = ",
    })
    local arrays, count = total(out)
    assert.equal(PYTORCH_ARRAYS, arrays)
    assert.equal(PYTORCH_COUNT, count)
    local accuracy = number_after(out, "test accuracy = ")
    assert.is_true(accuracy > 2 * CHANCE, "accuracy " .. accuracy)
    assert.equal(accuracy, number_after(out, "test accuracy of the copy = "))
    assert.equal(16, select(2, out:match("model%[2%]%.scale:([^\n]*)"):gsub("%d%.%d%d%d", "")))
  end)
end)

describe("examples/resnet_fashion.lua", function()
  -- PyTorch's count for the same model, computed once with torch 1.13
  -- (/usr/bin/python3): sum(p.numel() for p in m.parameters()) of the stem
  -- Conv2d(1, 32, 3, padding=1, bias=False), BatchNorm2d(32), three blocks
  -- of two Conv2d(32, 32, 3, padding=1, bias=False) each followed by a
  -- BatchNorm2d(32), and Linear(32, 10): 23 tensors, 56362 numbers, that is
  -- 288 + 64 + 3*(2*9216 + 2*64) + 330 (running statistics are buffers).
  local PYTORCH_ARRAYS, PYTORCH_COUNT = 23, 56362

  it("trains the ResNet on 1000 images in batches of 16 and tests it on 2000", function()
    local out = run("examples/resnet_fashion.lua", "1 1000 16 2000")
    assert_in_order(out, {
      "X:size() = {28, 28, 1, 1000}\n",
      "tX:size() = {28, 28, 1, 2000}\n",
      "class 1 is T-shirt/top, class 10 is Ankle boot\n",
      "\n  stem = Chain(",
      "\n  block1 = Chain(\n    SkipConnection(Chain(Conv((3, 3), 32 => 32, pad=1, bias=false), "
        .. "BatchNorm(32, relu), Conv((3, 3), 32 => 32, pad=1, bias=false), BatchNorm(32)), +),",
      "\n  block3 = Chain(",
      "\n  head = Chain(\n    GlobalMeanPool(),",
      "cnn.outputsize(model, {28, 28, 1, 1}) = {10, 1}\n",
      "pass 1/1: 63 batches, mean loss ",
      "test accuracy = 0.",
      "the first test picture, Ankle boot, is taken for ",
    })
    local arrays, count = total(out)
    assert.equal(PYTORCH_ARRAYS, arrays)
    assert.equal(PYTORCH_COUNT, count)
    local accuracy = number_after(out, "test accuracy = ")
    assert.is_true(accuracy > 2 * CHANCE, "accuracy " .. accuracy)
  end)
end)

describe("examples/quantize.lua", function()
  it("trains on 1000 images, quantizes and compares the int8 model with FP32", function()
    local out = run("examples/quantize.lua", "1 1000")
    assert_in_order(out, {
      "QuantizedModel(int8; max-abs ranges of 1000 calibration images):\n",
      "  input ", "# u8 [0, 1]\n",
      "  Conv((3, 3), 1 => 16, relu, pad=1) ", "# s8 weights per channel, u8 [0, ",
      "  Dense(288 => 10) ", "# s8 weights per channel, Float32\n",
      "test accuracy: FP32 ", "evaluating 10,000 images: FP32 ",
    })
    local fp32 = number_after(out, "test accuracy: FP32 ")
    local int8 = number_after(out, ", int8 ")
    assert.is_true(fp32 > 2 * CHANCE, out)
    assert.is_true(math.abs(fp32 - int8) <= 0.01, out)
    assert.is_true(number_after(out, "same class for ") >= 97, out)
  end)
end)
