-- Data augmentation: RandomCrop, RandomShift, RandomFlip, Normalize,
-- Compose, and DataLoader's transform option. Each transform is checked
-- against a plain Lua reference on small batches.
local cnn = require "cnn"
local core = cnn.core
local helpers = require "helpers"

local err = helpers.error_message

-- A W×H×C×N batch whose elements are 1, 2, 3, ... (all distinct, none zero).
local function batch(w, h, c, n)
  return cnn.range(1, w * h * c * n):reshape(w, h, c, n)
end

-- Element (i, j, ch, n) of a flat column-major list of sizes s.
local function at(flat, s, i, j, ch, n)
  return flat[i + s[1] * ((j - 1) + s[2] * ((ch - 1) + s[3] * (n - 1)))]
end

-- x's sample n padded by pad zeros, then cropped at offset (ox, oy) to
-- cw×ch, as a flat list (all channels).
local function crop_reference(xf, s, n, pad, ox, oy, cw, chh)
  local out = {}
  for ch = 1, s[3] do
    for j = 1, chh do
      for i = 1, cw do
        local si, sj = i + ox - pad, j + oy - pad
        local inside = si >= 1 and si <= s[1] and sj >= 1 and sj <= s[2]
        out[#out + 1] = inside and at(xf, s, si, sj, ch, n) or 0
      end
    end
  end
  return out
end

-- The offsets (ox, oy) at which sample n of y is the crop of x, or nil.
local function crop_offset(x, y, n, pad)
  local s, ys = x:size(), y:size()
  local xf, yf = helpers.flat(x), helpers.flat(y)
  local got = {}
  for ch = 1, ys[3] do
    for j = 1, ys[2] do
      for i = 1, ys[1] do got[#got + 1] = at(yf, ys, i, j, ch, n) end
    end
  end
  for oy = 0, s[2] + 2 * pad - ys[2] do
    for ox = 0, s[1] + 2 * pad - ys[1] do
      if helpers.same_list(got, crop_reference(xf, s, n, pad, ox, oy, ys[1], ys[2])) then
        return ox, oy
      end
    end
  end
  return nil
end

describe("RandomCrop", function()
  it("crops every sample at one offset of the zero-padded image, all offsets occurring", function()
    cnn.seed(3)
    local x = batch(5, 4, 2, 200)
    local y = cnn.RandomCrop({3, 2}, {pad = 1})(x)
    assert.same({3, 2, 2, 200}, y:size())
    local seen, count = {}, 0
    for n = 1, 200 do
      local ox, oy = crop_offset(x, y, n, 1)
      assert.is_not_nil(ox, "sample " .. n .. " is no crop of its image")
      if not seen[ox .. "," .. oy] then count = count + 1 end
      seen[ox .. "," .. oy] = true
    end
    assert.equal((5 + 2 - 3 + 1) * (4 + 2 - 2 + 1), count)
  end)

  it("is reproducible with cnn.seed and independent of the thread count", function()
    local x = batch(28, 28, 1, 1400) -- above 2^20 elements: run by several threads
    local t = cnn.RandomCrop(28, {pad = 4})
    cnn.seed(7)
    local a = helpers.flat(t(x))
    local threads = core.threads()
    core.threads(1)
    cnn.seed(7)
    local b = helpers.flat(t(x))
    core.threads(threads)
    assert.same(a, b)
    assert.are_not.same(a, helpers.flat(t(x)))
  end)

  it("leaves its input as it was", function()
    local x = batch(4, 4, 1, 3)
    local before = helpers.flat(x)
    cnn.RandomCrop(2, {pad = 2})(x)
    assert.same(before, helpers.flat(x))
  end)

  it("refuses bad arguments and images it cannot crop", function()
    assert.equal("RandomCrop: size must be a positive integer or a list {W, H} of them, got 0",
      err(cnn.RandomCrop, 0))
    assert.equal("RandomCrop: pad must be a non-negative integer, got -1",
      err(cnn.RandomCrop, 3, {pad = -1}))
    assert.matches("RandomCrop: unknown option \"padding\" %(valid options: pad%)",
      err(cnn.RandomCrop, 3, {padding = 1}))
    assert.equal("RandomCrop(9, pad=1): RandomCrop(9, pad=1) cannot crop 9×9 from 5×5 images padded by 1",
      err(cnn.RandomCrop(9, {pad = 1}), batch(5, 5, 1, 2)))
    assert.equal("RandomCrop(3): expected W×H×C×N images, got a 5×5×2 tensor (reshape it to 5×5×1×2)",
      err(cnn.RandomCrop(3), cnn.zeros(5, 5, 2)))
  end)

  it("prints as it is made", function()
    assert.equal("RandomCrop(28, pad=4)", tostring(cnn.RandomCrop(28, {pad = 4})))
    assert.equal("RandomCrop((3, 2))", tostring(cnn.RandomCrop({3, 2})))
  end)
end)

describe("RandomShift", function()
  it("shifts every sample by at most s pixels each way, filling with zeros", function()
    cnn.seed(5)
    local x = batch(6, 5, 1, 100)
    local y = cnn.RandomShift(2)(x)
    assert.same({6, 5, 1, 100}, y:size())
    local seen, count = {}, 0
    for n = 1, 100 do
      local ox, oy = crop_offset(x, y, n, 2)
      assert.is_not_nil(ox, "sample " .. n .. " is no shift of its image")
      if not seen[ox .. "," .. oy] then count = count + 1 end
      seen[ox .. "," .. oy] = true
    end
    assert.equal(25, count) -- shifts -2..2 in x and in y
  end)

  it("refuses a negative shift and prints itself", function()
    assert.equal("RandomShift: shift must be a non-negative integer, got -2", err(cnn.RandomShift, -2))
    assert.equal("RandomShift(2)", tostring(cnn.RandomShift(2)))
  end)
end)

describe("RandomFlip", function()
  local function mirrored(x, n)
    local s, xf = x:size(), helpers.flat(x)
    local out = {}
    for ch = 1, s[3] do
      for j = 1, s[2] do
        for i = 1, s[1] do out[#out + 1] = at(xf, s, s[1] + 1 - i, j, ch, n) end
      end
    end
    return out
  end
  local function sample(x, n)
    local s, xf = x:size(), helpers.flat(x)
    local per = s[1] * s[2] * s[3]
    return table.move(xf, (n - 1) * per + 1, n * per, 1, {})
  end

  it("mirrors each sample along W with probability p, odd and even widths", function()
    for _, w in ipairs{4, 5} do
      local x = batch(w, 3, 2, 2)
      local all = cnn.RandomFlip(1)(x)
      local none = cnn.RandomFlip(0)(x)
      for n = 1, 2 do
        assert.same(mirrored(x, n), sample(all, n))
        assert.same(sample(x, n), sample(none, n))
      end
    end
    cnn.seed(11)
    local x = batch(3, 1, 1, 2000)
    local y = cnn.RandomFlip()(x)
    local flipped = 0
    for n = 1, 2000 do
      local got = sample(y, n)
      if helpers.same_list(got, mirrored(x, n)) then
        flipped = flipped + 1
      else
        assert.same(sample(x, n), got)
      end
    end
    assert.is_true(flipped > 900 and flipped < 1100, flipped .. " of 2000 flipped")
  end)

  it("refuses a probability outside [0, 1] and prints itself", function()
    assert.equal("RandomFlip: p must be a number in [0, 1], got 1.5", err(cnn.RandomFlip, 1.5))
    assert.equal("RandomFlip()", tostring(cnn.RandomFlip()))
    assert.equal("RandomFlip(0.25)", tostring(cnn.RandomFlip(0.25)))
  end)
end)

describe("Normalize", function()
  it("normalises every channel with its mean and standard deviation", function()
    local x = batch(2, 3, 2, 4)
    local y = cnn.Normalize({1, 2}, {2, 4})(x)
    local s, xf, yf = x:size(), helpers.flat(x), helpers.flat(y)
    for n = 1, 4 do
      for ch = 1, 2 do
        for j = 1, 3 do
          for i = 1, 2 do
            local want = (at(xf, s, i, j, ch, n) - ({1, 2})[ch]) / ({2, 4})[ch]
            assert.near(want, at(yf, s, i, j, ch, n), 1e-5 * math.abs(want))
          end
        end
      end
    end
  end)

  it("refuses bad statistics and images with another number of channels", function()
    assert.equal("Normalize: std[1] must be a positive number, got 0", err(cnn.Normalize, 0.5, 0))
    assert.equal("Normalize: mean has 2 values, std has 1; give one of each per channel",
      err(cnn.Normalize, {0, 1}, {1}))
    assert.equal("Normalize: mean must be a number or a list of numbers, one per channel, got \"a\"",
      err(cnn.Normalize, "a", 1))
    assert.equal("Normalize({0.5}, {0.25}): Normalize({0.5}, {0.25}) has 1 channel, the images have 3 (2×2×3×1)",
      err(cnn.Normalize(0.5, 0.25), cnn.zeros(2, 2, 3, 1)))
  end)
end)

describe("Compose", function()
  it("applies its transforms in order and prints them", function()
    local t = cnn.Compose(cnn.RandomFlip(1), cnn.Normalize(1, 2))
    assert.equal("Compose(RandomFlip(1), Normalize({1}, {2}))", tostring(t))
    local x = batch(3, 2, 1, 2)
    local want = cnn.Normalize(1, 2)(cnn.RandomFlip(1)(x))
    assert.same(helpers.flat(want), helpers.flat(t(x)))
    assert.same(helpers.flat(batch(3, 2, 1, 2)), helpers.flat(x)) -- x untouched
  end)

  it("refuses what is not a transform", function()
    assert.equal("Compose: argument 2 must be a transform such as cnn.RandomFlip(), got a function",
      err(cnn.Compose, cnn.RandomFlip(), print))
    assert.equal("Compose: expected at least one transform, got none", err(cnn.Compose))
  end)
end)

describe("DataLoader's transform", function()
  it("transforms every batch of the first array into a reused buffer", function()
    local x = batch(4, 4, 1, 10)
    local y = cnn.range(1, 10)
    local loader = cnn.DataLoader(x, y, {batchsize = 4, transform = cnn.Compose(cnn.RandomFlip(1),
      cnn.Normalize(0, 2))})
    local firsts, sizes, ys = {}, {}, {}
    for xb, yb in loader do
      firsts[#firsts + 1] = xb
      sizes[#sizes + 1] = xb:size(4)
      ys[#ys + 1] = yb:totable()
    end
    assert.same({4, 4, 2}, sizes)
    assert.same({{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}}, ys)
    assert.is_true(rawequal(firsts[1], firsts[2]))
    local want = cnn.Normalize(0, 2)(cnn.RandomFlip(1)(x:slice(4, 5, 8)))
    local again = {}
    for xb in loader:iter() do again[#again + 1] = helpers.flat(xb) end
    assert.same(helpers.flat(want), again[2])
  end)

  it("keeps the {x, y} form, gives new tensors with copy, and prints the transform", function()
    local x = batch(3, 3, 1, 4)
    local loader = cnn.DataLoader({x, x}, {batchsize = 2, copy = true, transform = cnn.RandomFlip(1)})
    local got = {}
    for xb, yb in loader do got[#got + 1] = {xb, yb} end
    assert.is_false(rawequal(got[1][1], got[2][1]))
    assert.same(helpers.flat(cnn.RandomFlip(1)(x:slice(4, 1, 2))), helpers.flat(got[1][1]))
    assert.same(helpers.flat(x:slice(4, 1, 2)), helpers.flat(got[1][2]))
    assert.equal("DataLoader({3×3×1×4, 3×3×1×4}, batchsize=2, copy=true, transform=RandomFlip(1)) with 2 batches",
      tostring(loader))
  end)

  it("is reproducible with cnn.seed, shuffled or not", function()
    local x = batch(8, 8, 1, 32)
    local function pass()
      cnn.seed(2)
      local loader = cnn.DataLoader(x, {batchsize = 8, shuffle = true,
        transform = cnn.Compose(cnn.RandomCrop(8, {pad = 2}), cnn.RandomFlip())})
      local out = {}
      for xb in loader do out[#out + 1] = helpers.flat(xb) end
      return out
    end
    assert.same(pass(), pass())
  end)

  it("refuses a transform that is not one, or that the images do not fit", function()
    local x = batch(5, 5, 1, 4)
    assert.equal("DataLoader: transform must be a transform such as cnn.RandomFlip() or "
      .. "cnn.Compose(...), got a function", err(cnn.DataLoader, x, {transform = print}))
    assert.equal("DataLoader: RandomCrop(8) cannot crop 8×8 from 5×5 images padded by 0",
      err(cnn.DataLoader, x, {transform = cnn.RandomCrop(8)}))
    assert.equal("DataLoader: the transform's input: expected W×H×C×N images, got a 5×5×4 tensor "
      .. "(reshape it to 5×5×1×4)", err(cnn.DataLoader, cnn.zeros(5, 5, 4), {transform = cnn.RandomFlip()}))
    assert.equal("DataLoader: transform applies to the first array, images W×H×C×N, got a table of 2 tensors",
      err(cnn.DataLoader, {{x, x}, x}, {transform = cnn.RandomFlip()}))
  end)
end)
