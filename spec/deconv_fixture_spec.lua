-- ConvTranspose layers against PyTorch's conv_transpose2d: the output,
-- the mse loss, the gradients of input, weight and bias, and the
-- parameters after one ADAM step, from fixtures written by
-- scripts/make-deconv-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local core = cnn.core

local FIXTURE = "spec/fixtures/deconv.safetensors"
-- Each element within RTOL of the float64 reference, relative to itself;
-- an element that cancels to near zero within FLOOR of the tensor's
-- largest element (float32 sums lose about 1e-7 of their largest terms:
-- an output of 0.0057 summed from 36 products of size 3 is good to about
-- 1e-3 of itself, 1e-7 of the tensor's largest 27).
local RTOL, FLOOR = 1e-4, 1e-6

-- The cases of scripts/make-deconv-fixtures, in cnnlua's words.
local CASES = {
  {name = "stride2", text = "ConvTranspose((3, 3), 16 => 3, relu, pad=1, stride=2)", layer = function()
    return cnn.ConvTranspose({3, 3}, 16, 3, cnn.relu, {stride = 2, pad = 1})
  end},
  {name = "grouped", layer = function()
    return cnn.ConvTranspose({3, 2}, 6, 9, {groups = 3, stride = {2, 1}, pad = {0, 1},
                                            dilation = {1, 2}, outpad = {1, 0}})
  end},
  {name = "dilated", layer = function()
    return cnn.ConvTranspose({3, 3}, 4, 2, cnn.relu, {stride = 3, pad = 2, dilation = 2, outpad = {2, 1}})
  end},
}

-- The element with the largest |a - e| / (RTOL·|e| + FLOOR·max|e|)
-- (≤ 1 passes).
local function assert_matches(actual, expected, what)
  assert.are.same(expected:size(), actual:size(), what)
  local a = actual:contiguous():reshape(-1):totable()
  local e = expected:contiguous():reshape(-1):totable()
  local largest = 0
  for i = 1, #e do largest = math.max(largest, math.abs(e[i])) end
  local worst, worst_i = 0, 1
  for i = 1, #e do
    local ratio = math.abs(a[i] - e[i]) / (RTOL * math.abs(e[i]) + FLOOR * largest)
    if ratio > worst then worst, worst_i = ratio, i end
  end
  if worst > 1 then
    error(("%s: element %d is %.9g, PyTorch gives %.9g"):format(what, worst_i, a[worst_i], e[worst_i]), 2)
  end
end

describe("ConvTranspose against PyTorch", function()
  local ref

  setup(function()
    ref = core.load_safetensors(FIXTURE)
  end)

  for _, case in ipairs(CASES) do
    local function get(field) return ref[case.name .. "." .. field] end
    local function model()
      local m = case.layer()
      assert.are.same(m.weight:size(), get("weight"):size())
      m.weight:copy(get("weight"))
      m.bias:copy(get("bias"))
      return m
    end
    local function loss(m) return cnn.mse(m(get("x")), get("t")) end

    it(case.name .. ": forward output and loss", function()
      local m = model()
      if case.text then assert.are.equal(case.text, tostring(m)) end
      assert_matches(m(get("x")), get("y"), case.name .. " y")
      local l, e = loss(m), get("loss"):item()
      assert.is_true(math.abs(l - e) <= RTOL * math.abs(e), ("loss %.9g, PyTorch %.9g"):format(l, e))
    end)

    it(case.name .. ": every gradient", function()
      local m = model()
      local x, t = get("x"), get("t")
      local gx, gw, gb = cnn.gradient(function(input, w, b)
        m.weight, m.bias = w, b
        return cnn.mse(m(input), t)
      end, x, m.weight, m.bias)
      assert_matches(gx, get("grad.x"), case.name .. " grad x")
      assert_matches(gw, get("grad.weight"), case.name .. " grad weight")
      assert_matches(gb, get("grad.bias"), case.name .. " grad bias")
    end)

    it(case.name .. ": the parameters after one ADAM step", function()
      local m = model()
      local ps = cnn.params(m)
      assert.are.equal(2, #ps)
      local gs = cnn.gradient(function() return loss(m) end, ps)
      cnn.update(cnn.ADAM(1e-3), ps, gs)
      assert_matches(m.weight, get("adam.weight"), case.name .. " weight after ADAM")
      assert_matches(m.bias, get("adam.bias"), case.name .. " bias after ADAM")
    end)
  end

  it("has cases whose relu cuts: some outputs are zero, some are not", function()
    for _, name in ipairs{"stride2", "dilated"} do
      local y = ref[name .. ".y"]
      assert.is_true(core.sum(core.eq(y, 0)) > 0 and core.sum(core.gt(y, 0)) > 0, name)
    end
  end)

  it("creates no oneDNN primitive from the second training step on", function()
    local m = CASES[1].layer()
    local ps, opt = cnn.params(m), cnn.ADAM()
    local x, t = ref["stride2.x"], ref["stride2.t"]
    local function step()
      cnn.update(opt, ps, cnn.gradient(function() return cnn.mse(m(x), t) end, ps))
    end
    step()
    local created = core.stats().primitives_created
    step()
    step()
    assert.are.equal(created, core.stats().primitives_created)
  end)
end)
