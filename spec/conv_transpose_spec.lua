-- ConvTranspose and DepthwiseConv: printing, sizes, options and their
-- errors, the model functions, and the transposed convolution as the
-- adjoint of the convolution. Numbers against PyTorch are in
-- deconv_fixture_spec.lua.
local cnn = require "cnn"
local helpers = require "helpers"
local core = cnn.core

local tmpfile = helpers.tmpfile

-- The rule of PyTorch's ConvTranspose2d along one dimension.
local function expected_size(n, k, stride, lo, hi, dilation, outpad)
  return (n - 1) * stride - lo - hi + dilation * (k - 1) + 1 + outpad
end

local function dot(a, b) return core.sum(core.mul(a, b)) end

describe("ConvTranspose", function()
  it("prints as Flux does", function()
    assert.are.equal("ConvTranspose((3, 3), 16 => 1, relu, pad=1, stride=2)",
      tostring(cnn.ConvTranspose({3, 3}, 16, 1, cnn.relu, {stride = 2, pad = 1})))
    assert.are.equal("ConvTranspose((2, 4), 6 => 9, pad=(1, 1, 0, 0), dilation=(2, 1), outpad=(1, 0), "
      .. "groups=3, bias=false)",
      tostring(cnn.ConvTranspose({2, 4}, 6, 9, {pad = {1, 0}, dilation = {2, 1}, stride = 1,
                                               outpad = {1, 0}, groups = 3, bias = false})))
    assert.are.equal("ConvTranspose((5, 5), 2 => 4)", tostring(cnn.ConvTranspose({5, 5}, {2, 4})))
  end)

  it("keeps Flux's weight layout kW×kH×(Cout/groups)×Cin and a bias of Cout", function()
    local m = cnn.ConvTranspose({3, 2}, 6, 9, {groups = 3})
    assert.are.same({3, 2, 3, 6}, m.weight:size())
    assert.are.same({9}, m.bias:size())
    assert.are.equal(2, #cnn.params(m))
    assert.are.equal(1, #cnn.params(cnn.ConvTranspose({3, 3}, 2, 2, {bias = false})))
  end)

  it("gives PyTorch's output sizes, with summary and outputsize agreeing", function()
    local cases = {
      {k = {3, 3}, opts = {stride = 2, pad = 1}},
      {k = {4, 3}, opts = {stride = {2, 3}, pad = {1, 2, 0, 1}, outpad = {1, 2}}},
      {k = {3, 5}, opts = {dilation = {2, 1}, stride = 2, outpad = {1, 1}}},
      {k = {1, 1}, opts = {}},
    }
    for _, c in ipairs(cases) do
      local m = cnn.ConvTranspose(c.k, 3, 2, c.opts)
      local y = m(cnn.rand(5, 4, 3, 2))
      local want = {}
      for d = 1, 2 do
        want[d] = expected_size(({5, 4})[d], c.k[d], m.stride[d], m.pad[2 * d - 1], m.pad[2 * d],
          m.dilation[d], m.outpad[d])
      end
      assert.are.same({want[1], want[2], 2, 2}, y:size(), tostring(m))
      assert.are.same(y:size(), cnn.outputsize(m, {5, 4, 3, 2}))
    end
    local s = tostring(cnn.summary(cnn.Chain(cnn.ConvTranspose({3, 3}, 1, 2, {stride = 2})), {7, 7, 1, 1}))
    assert.matches("15×15×2×1", s, 1, true)
  end)

  it("pads \"same\" as Flux: the output is the input times the stride", function()
    for _, stride in ipairs{1, 2, 3} do
      local m = cnn.ConvTranspose({4, 3}, 2, 2, {stride = stride, pad = "same"})
      assert.are.same({6 * stride, 5 * stride, 2, 1}, m(cnn.rand(6, 5, 2, 1)):size())
    end
  end)

  it("is the adjoint of the convolution with the same weight, stride and padding", function()
    -- <deconv(x, w), y> = <x, conv(y, w)>: w is kW×kH×Cout×Cin for the
    -- transposed convolution and kW×kH×Cin'×Cout' for Conv, Cout to Cin
    for _, opts in ipairs{{stride = 2, pad = 1}, {stride = {1, 2}, dilation = {2, 1}, pad = {0, 1, 2, 0}},
                          {groups = 2, stride = 3}} do
      local g = opts.groups or 1
      local x, w = cnn.randn(5, 4, 4, 2), cnn.randn(3, 3, 6 / g, 4)
      local y = cnn.deconv2d(x, w, nil, opts)
      local r = cnn.randn(y:size())
      local lhs, rhs = dot(y, r), dot(x, cnn.conv2d(r, w, nil, opts))
      assert.is_true(math.abs(lhs - rhs) <= 1e-4 * math.abs(lhs) + 1e-3, ("%g vs %g"):format(lhs, rhs))
    end
  end)

  it("adds its bias and applies its relu in every layout the transposed convolution writes", function()
    -- the bias and the relu run after the deconvolution, in its output's
    -- layout (plain, channels-last, or channels in blocks of 8 or 16 with
    -- padding channels): compare with the deconvolution alone followed by
    -- the bias and cnn.relu on a plain copy
    for _, cout in ipairs{1, 3, 16, 17, 32} do
      for _, mode in ipairs{"train", "test"} do
        local m = cnn.ConvTranspose({4, 4}, 8, cout, cnn.relu, {stride = 2, pad = 1})
        m.bias = cnn.randn(cout)
        if mode == "test" then cnn.testmode(m) end
        local x = cnn.randn(7, 6, 8, 5)
        local got = m(x)
        local plain = cnn.deconv2d(x, m.weight, nil, {stride = 2, pad = 1})
        local want = cnn.relu(plain + cnn.reshape(m.bias, 1, 1, cout, 1))
        assert.are.same(want:size(), got:size())
        local diff = cnn.maximum(cnn.abs(got - want))
        assert.is_true(diff <= 1e-5, ("Cout %d, %s mode: differs by %g"):format(cout, mode, diff))
      end
    end
  end)

  it("keeps NaN through its fused relu, as cnn.relu does", function()
    local x = cnn.ones(3, 3, 1, 1)
    x[{2, 2, 1, 1}] = 0 / 0
    local m = cnn.ConvTranspose({1, 1}, 1, 1, cnn.relu)
    local y = m(x):totable()
    assert.is_true(y[2][2][1][1] ~= y[2][2][1][1])
  end)

  it("refuses options and inputs it does not understand, naming itself", function()
    local function err(f, ...)
      local ok, e = pcall(f, ...)
      assert.is_false(ok)
      return tostring(e)
    end
    assert.matches('ConvTranspose: unknown option "padding"',
      err(cnn.ConvTranspose, {3, 3}, 1, 1, {padding = 1}), 1, true)
    assert.matches("ConvTranspose: outpad must be smaller than the stride or the dilation, "
      .. "got outpad (2, 2), stride (2, 2)",
      err(cnn.ConvTranspose, {3, 3}, 1, 1, {stride = 2, outpad = 2}), 1, true)
    assert.matches("ConvTranspose: outpad must be smaller than the high padding plus the stride "
      .. "(oneDNN's deconvolution), got outpad (2, 2), pad (0, 0, 0, 0), stride (1, 1)",
      err(cnn.ConvTranspose, {3, 3}, 1, 1, {dilation = 3, outpad = 2}), 1, true)
    assert.matches("deconv2d: output padding 2×2 must be smaller than the high padding plus the stride",
      err(cnn.deconv2d, cnn.rand(3, 3, 1, 1), cnn.rand(3, 3, 1, 1), nil, {dilation = 3, outpad = 2}), 1, true)
    assert.matches("ConvTranspose: outpad must be a non-negative integer or a table of 2",
      err(cnn.ConvTranspose, {3, 3}, 1, 1, {outpad = -1}), 1, true)
    assert.matches("ConvTranspose: cout = 3 is not divisible by groups = 2",
      err(cnn.ConvTranspose, {3, 3}, 4, 3, {groups = 2}), 1, true)
    assert.matches('ConvTranspose: pad = "same" needs a kernel at least the stride',
      err(cnn.ConvTranspose, {2, 2}, 1, 1, {stride = 3, pad = "same"}), 1, true)
    assert.matches("ConvTranspose: cin must be a positive integer, got 0",
      err(cnn.ConvTranspose, {3, 3}, 0, 1), 1, true)
    local m = cnn.ConvTranspose({3, 3}, 2, 1)
    assert.matches("ConvTranspose((3, 3), 2 => 1): input has 3 channels (4×4×3×1), expected 2",
      err(m, cnn.rand(4, 4, 3, 1)), 1, true)
    assert.matches("input (1×1×1×1) is too small for the padding (3, 3, 3, 3)",
      err(cnn.ConvTranspose({3, 3}, 1, 1, {pad = 3}), cnn.rand(1, 1, 1, 1)), 1, true)
  end)

  it("has cnn.deconv2d name itself and both operands in its shape errors", function()
    local ok, e = pcall(cnn.deconv2d, cnn.rand(4, 4, 3, 1), cnn.rand(3, 3, 2, 2))
    assert.is_false(ok)
    assert.matches("deconv2d: input has 3 channels (4×4×3×1), weight expects 2 (3×3×2×2", e, 1, true)
    ok, e = pcall(cnn.deconv2d, cnn.rand(4, 4, 2, 1), cnn.rand(3, 3, 2, 2), cnn.zeros(3))
    assert.is_false(ok)
    assert.matches("deconv2d: bias is 3, weight has 2 output channels", e, 1, true)
    ok, e = pcall(core.deconv2d_backward_data, cnn.rand(5, 5, 2, 1), cnn.rand(3, 3, 2, 2), {4, 4, 2, 1}, {})
    assert.is_false(ok)
    assert.matches("deconv2d_backward_data: gradient is 5×5×2×1, output of input 4×4×2×1 and weight 3×3×2×2 is 6×6×2×1",
      e, 1, true)
  end)

  it("is saved and loaded with the model, with DepthwiseConv", function()
    local function model()
      return cnn.Chain(cnn.DepthwiseConv({3, 3}, 2, 4, cnn.relu, {stride = 2, pad = 1}),
                       cnn.ConvTranspose({3, 3}, 4, 1, cnn.sigmoid, {stride = 2, pad = 1, outpad = 1}))
    end
    local path = tmpfile()
    local a, b = model(), model()
    cnn.savemodel(path, a)
    cnn.loadmodel(path, b)
    os.remove(path)
    local pa, pb = cnn.params(a), cnn.params(b)
    assert.are.equal(4, #pa)
    for i = 1, #pa do assert.is_true(pa[i] == pb[i]) end
    local x = cnn.rand(8, 8, 2, 3)
    assert.are.same({8, 8, 1, 3}, a(x):size())
    assert.is_true(a(x) == b(x))
  end)
end)

describe("DepthwiseConv", function()
  it("is a Conv with groups = cin, printed as DepthwiseConv", function()
    local m = cnn.DepthwiseConv({3, 3}, 4, 8, cnn.relu, {pad = 1})
    assert.are.equal("DepthwiseConv((3, 3), 4 => 8, relu, pad=1)", tostring(m))
    assert.are.equal(4, m.groups)
    assert.are.same({3, 3, 1, 8}, m.weight:size())
    local c = cnn.Conv({3, 3}, 4, 8, cnn.relu, {pad = 1, groups = 4})
    c.weight:copy(m.weight)
    local x = cnn.randn(6, 5, 4, 2)
    assert.is_true(c(x) == m(x))
    assert.are.equal("DepthwiseConv((3, 3), 2 => 2)", tostring(cnn.DepthwiseConv({3, 3}, {2, 2})))
  end)

  it("refuses groups and a cout that is not a multiple of cin, naming itself", function()
    local ok, e = pcall(cnn.DepthwiseConv, {3, 3}, 4, 8, {groups = 2})
    assert.is_false(ok)
    assert.matches('DepthwiseConv: unknown option "groups"', e, 1, true)
    ok, e = pcall(cnn.DepthwiseConv, {3, 3}, 4, 6)
    assert.is_false(ok)
    assert.matches("DepthwiseConv: cout = 6 is not divisible by groups = 4", e, 1, true)
    local m = cnn.DepthwiseConv({3, 3}, 2, 2)
    ok, e = pcall(m, cnn.rand(5, 5, 3, 1))
    assert.is_false(ok)
    assert.matches("DepthwiseConv((3, 3), 2 => 2): input has 3 channels", e, 1, true)
  end)
end)
