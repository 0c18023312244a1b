-- Grouped and depthwise Conv layers against PyTorch: the output and the
-- gradients of input, weight and bias, from fixtures written by
-- scripts/make-grouped-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

-- Each element within 1e-5 of the float64 reference, relative to itself;
-- an element that cancels to near zero within 1e-6 of the tensor's
-- largest element (float32 sums lose about 1e-7 of their largest terms:
-- a gradient of 0.047 summed from 200 terms of size 1 is good to about
-- 1e-4 of itself, 1e-7 of the tensor's largest 40).
local assert_matches = helpers.reference_matcher({rel = 1e-5, abs_of_max = 1e-6})

-- The cases of scripts/make-grouped-fixtures, in cnnlua's words.
local CASES = {
  {name = "grouped", layer = function()
    return cnn.Conv({3, 2}, 6, 9, {groups = 3, stride = {2, 1}, pad = {1, 2}, dilation = {1, 2}})
  end},
  {name = "depthwise", layer = function()
    return cnn.Conv({3, 3}, 4, 8, cnn.relu, {groups = 4, stride = 2, pad = 2, dilation = 2})
  end},
  {name = "depthwise32", layer = function()
    return cnn.Conv({3, 3}, 32, 32, {groups = 32, pad = 1})
  end},
}


describe("grouped and depthwise Conv against PyTorch", function()
  local ref

  setup(function()
    ref = helpers.fixture("grouped_conv")
  end)

  for _, case in ipairs(CASES) do
    local function get(field) return ref[case.name .. "." .. field] end

    it(case.name .. ": forward output and every gradient", function()
      local m = case.layer()
      assert.are.same(m.weight:size(), get("weight"):size())
      m.weight:copy(get("weight"))
      m.bias:copy(get("bias"))
      local x, r = get("x"), get("r")
      assert_matches(m(x), get("y"), case.name .. " y")
      -- the layer's own parameters as arguments: their gradients are the
      -- layer's, through the same op
      local gx, gw, gb = cnn.gradient(function(input, w, b)
        m.weight, m.bias = w, b
        return cnn.sum(m(input) * r)
      end, x, m.weight, m.bias)
      assert_matches(gx, get("grad.x"), case.name .. " grad x")
      assert_matches(gw, get("grad.weight"), case.name .. " grad weight")
      assert_matches(gb, get("grad.bias"), case.name .. " grad bias")
      local gs = cnn.gradient(function() return cnn.sum(m(x) * r) end, cnn.params(m))
      assert_matches(gs[m.weight], get("grad.weight"), case.name .. " grad weight by params")
    end)
  end

  it("has a case whose relu cuts: some outputs are zero, some are not", function()
    local y = ref["depthwise.y"]
    assert.is_true(helpers.relu_cuts(y))
  end)
end)
