-- ConvTranspose layers against PyTorch's conv_transpose2d: the output,
-- the mse loss, the gradients of input, weight and bias, and the
-- parameters after one ADAM step, from fixtures written by
-- scripts/make-deconv-fixtures (PyTorch is not needed to run this spec).
local cnn = require "cnn"
local helpers = require "helpers"

-- Each element within 1e-4 of the float64 reference, relative to itself;
-- an element that cancels to near zero within 1e-6 of the tensor's
-- largest element (float32 sums lose about 1e-7 of their largest terms:
-- an output of 0.0057 summed from 36 products of size 3 is good to about
-- 1e-3 of itself, 1e-7 of the tensor's largest 27). The loss within 1e-4
-- of itself.
local assert_matches = helpers.reference_matcher({rel = 1e-4, abs_of_max = 1e-6})
local LOSS_TOL = {rel = 1e-4}

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


describe("ConvTranspose against PyTorch", function()
  local ref

  setup(function()
    ref = helpers.fixture("deconv")
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
      helpers.assert_matches_reference(case.name .. " loss", loss(m), get("loss"), LOSS_TOL)
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
      assert.is_true(helpers.relu_cuts(y), name)
    end
  end)

  it("creates no oneDNN primitive from the second training step on", function()
    local m = CASES[1].layer()
    local ps, opt = cnn.params(m), cnn.ADAM()
    local x, t = ref["stride2.x"], ref["stride2.t"]
    local function step()
      cnn.update(opt, ps, cnn.gradient(function() return cnn.mse(m(x), t) end, ps))
    end
    helpers.assert_no_new_primitives(step)
  end)
end)
