-- The user's own data: single images (saveimage, loadimage), folders of
-- them (datasets.ImageFolder), CSV files (datasets.CSV) and IDX files
-- (datasets.IDX). The spec writes its files itself: PNGs through
-- cnn.saveimage, PGM and PPM files byte by byte; the JPEG is a fixture
-- from libjpeg-turbo's cjpeg, checked against its djpeg's decoding
-- (scripts/make-image-fixtures).
local cnn = require "cnn"
local helpers = require "helpers"

local err = helpers.error_message

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. dir))

local function mkdir(path)
  assert(os.execute("mkdir -p '" .. path .. "'"))
  return path
end

-- x rounded to the 8-bit values a PNG holds, as loadimage gives them.
local function quantised(x)
  local out = {}
  for i, v in ipairs(helpers.flat(x)) do
    out[i] = helpers.f32(math.floor(math.min(math.max(v, 0), 1) * 255 + 0.5) / 255)
  end
  return out
end

-- A W×H×C image of a class: class 0 bright on the left, class 1 on the
-- right, with noise.
local function pattern(class, w, h, c)
  local noise = cnn.rand(w, h, c) * 0.2
  local ramp = cnn.zeros(w, h, c)
  for i = 1, w do
    local v = ((class == 0) == (i <= w // 2)) and 0.8 or 0.0
    for j = 1, h do
      for k = 1, c do ramp[{i, j, k}] = v end
    end
  end
  return ramp + noise
end

describe("saveimage and loadimage", function()
  it("write and read PNGs, gray and RGB, to 8 bits", function()
    for _, c in ipairs{1, 3} do
      local x = cnn.rand(5, 4, c)
      local path = dir .. "/round" .. c .. ".png"
      cnn.saveimage(path, x)
      local f = assert(io.open(path, "rb"))
      assert.equal("\137PNG\r\n\26\n", f:read(8))
      f:close()
      local y = cnn.loadimage(path)
      assert.same({5, 4, c}, y:size())
      assert.same(quantised(x), helpers.flat(y))
    end
    cnn.saveimage(dir .. "/flat.png", cnn.fill(0.5, 3, 2))
    assert.same({3, 2, 1}, cnn.loadimage(dir .. "/flat.png"):size())
  end)

  it("convert gray to RGB by copies and RGB to gray by luma", function()
    local x = cnn.rand(3, 2, 3)
    cnn.saveimage(dir .. "/rgb.png", x)
    local q = quantised(x)
    local g = helpers.flat(cnn.loadimage(dir .. "/rgb.png", {channels = 1}))
    for k = 1, 6 do
      local want = (0.299 * q[k] + 0.587 * q[k + 6] + 0.114 * q[k + 12])
      assert.near(want, g[k], 1e-6)
    end
    cnn.saveimage(dir .. "/gray.png", x:slice(3, 1, 1))
    local rgb = helpers.flat(cnn.loadimage(dir .. "/gray.png", {channels = 3}))
    for k = 1, 6 do
      assert.equal(q[k], rgb[k])
      assert.equal(q[k], rgb[k + 6])
      assert.equal(q[k], rgb[k + 12])
    end
  end)

  it("read binary PGM and PPM files, 8 and 16 bits, with comments", function()
    helpers.write_bytes(dir .. "/a.pgm", "P5\n# a comment\n3 2\n255\n" .. string.char(0, 51, 102, 153, 204, 255))
    local f = helpers.f32
    assert.same({{0, f(0.6)}, {f(0.2), f(0.8)}, {f(0.4), 1}}, cnn.loadimage(dir .. "/a.pgm"):reshape(3, 2):totable())
    helpers.write_bytes(dir .. "/b.pgm", "P5 2 1 1000 " .. string.char(0, 0, 3, 232))
    assert.same({0, 1}, helpers.flat(cnn.loadimage(dir .. "/b.pgm")))
    helpers.write_bytes(dir .. "/c.ppm", "P6\n1 1\n255\n" .. string.char(255, 0, 51))
    assert.same({1, 0, helpers.f32(0.2)}, helpers.flat(cnn.loadimage(dir .. "/c.ppm")))
  end)

  it("read JPEGs as libjpeg-turbo's djpeg decodes them", function()
    local x = cnn.loadimage("spec/fixtures/image.jpg")
    assert.same({7, 5, 3}, x:size())
    assert.same(helpers.flat(cnn.loadimage("spec/fixtures/image_decoded.ppm")), helpers.flat(x))
  end)

  it("name the file that is corrupt, truncated or not an image", function()
    local f = assert(io.open(dir .. "/round3.png", "rb"))
    local png = f:read("a")
    f:close()
    local cut = helpers.write_bytes(dir .. "/cut.png", png:sub(1, #png - 20))
    assert.matches("^loadimage: " .. cut:gsub("%p", "%%%0") .. ": corrupt PNG %(.+%)$", err(cnn.loadimage, cut))
    f = assert(io.open("spec/fixtures/image.jpg", "rb"))
    local jpg = f:read("a")
    f:close()
    local bad = helpers.write_bytes(dir .. "/cut.jpg", jpg:sub(1, 200))
    assert.matches("^loadimage: " .. bad:gsub("%p", "%%%0") .. ": corrupt JPEG %(.+%)$", err(cnn.loadimage, bad))
    local short = helpers.write_bytes(dir .. "/short.pgm", "P5\n3 2\n255\n" .. string.char(1, 2))
    assert.equal("loadimage: " .. short .. ": truncated PGM data (3×2 pixels expected)", err(cnn.loadimage, short))
    local text = helpers.write_bytes(dir .. "/notes.txt", "hello")
    assert.equal("loadimage: " .. text .. " is not a PNG, JPEG or binary PGM/PPM image", err(cnn.loadimage, text))
    assert.matches("^loadimage: cannot open " .. dir .. "/none.png: No such file",
      err(cnn.loadimage, dir .. "/none.png"))
    assert.equal("loadimage: channels must be one of 1, 3, got 2", err(cnn.loadimage, text, {channels = 2}))
    assert.equal("saveimage: x must be a W×H or W×H×C image tensor, got nil", err(cnn.saveimage, dir .. "/x.png"))
    assert.equal("saveimage: expected a W×H or W×H×C Float32 image, C 1 or 3, got Float32 2×2×2",
      err(cnn.saveimage, dir .. "/x.png", cnn.zeros(2, 2, 2)))
  end)
end)

describe("datasets.ImageFolder", function()
  local root = mkdir(dir .. "/pets")
  local per_class = 12

  setup(function()
    cnn.seed(1)
    for class, name in ipairs{"dog", "cat"} do -- written out of order: classes are sorted
      mkdir(root .. "/" .. name)
      for k = 1, per_class do
        cnn.saveimage(("%s/%s/%02d.png"):format(root, name, k), pattern(2 - class, 8, 6, 1))
      end
    end
    helpers.write_bytes(root .. "/.hidden", "not a class")
    helpers.write_bytes(root .. "/cat/.DS_Store", "not an image")
  end)

  it("reads one sub-folder per class, sorted, labels 0-based as MNIST's, and trains on it", function()
    local x, y, classes = cnn.datasets.ImageFolder(root)
    assert.same({"cat", "dog"}, classes)
    assert.same({8, 6, 1, 2 * per_class}, x:size())
    assert.equal("Int32", y:dtype())
    local want = {}
    for i = 1, 2 * per_class do want[i] = i <= per_class and 0 or 1 end
    assert.same(want, y:totable())
    -- image 1 is cat/01.png, as loadimage reads it
    assert.same(helpers.flat(cnn.loadimage(root .. "/cat/01.png")), helpers.flat(x:slice(4, 1, 1)))
    local _, yh = cnn.datasets.ImageFolder(root, {onehot = true})
    assert.same({2, 2 * per_class}, yh:size())

    cnn.seed(2)
    local model = cnn.Chain(cnn.Flatten(), cnn.Dense(48, 2))
    local loss = function(xb, yb) return cnn.logitcrossentropy(model(xb), yb) end
    local loader = cnn.DataLoader(x, yh, {batchsize = 8, shuffle = true, transform = cnn.RandomShift(1)})
    local before = loss(x, yh)
    cnn.train(loss, cnn.params(model), cnn.ncycle(loader, 30), cnn.Adam(0.05), {progress = false})
    assert.is_true(loss(x, yh) < before / 4, before .. " → " .. loss(x, yh))
    assert.same(y:totable(), cnn.onecold(model(x), cnn.range(0, 1)):totable())
  end)

  it("converts channels and resizes, bilinear as Upsample, nearest by copies", function()
    local x = cnn.datasets.ImageFolder(root)
    local rgb = cnn.datasets.ImageFolder(root, {channels = 3})
    assert.same({8, 6, 3, 2 * per_class}, rgb:size())
    assert.same(helpers.flat(x), helpers.flat(rgb:slice(3, 2, 2)))
    local big = cnn.datasets.ImageFolder(root, {size = {12, 9}})
    helpers.assert_tensor_near(big, cnn.Upsample("bilinear", {size = {12, 9}})(x), 1e-5, 1e-6)
    local twice = cnn.datasets.ImageFolder(root, {size = {16, 12}, resize = "nearest"})
    helpers.assert_tensor_near(twice, cnn.Upsample("nearest", {scale = 2})(x), 0, 0)
  end)

  it("refuses mixed sizes, corrupt files, empty folders, naming them", function()
    local mixed = mkdir(dir .. "/mixed")
    mkdir(mixed .. "/a")
    cnn.saveimage(mixed .. "/a/1.png", cnn.rand(4, 4))
    cnn.saveimage(mixed .. "/a/2.png", cnn.rand(5, 4))
    assert.equal("ImageFolder: " .. mixed .. "/a/2.png is 5×4, " .. mixed .. "/a/1.png is 4×4; all "
      .. "images must have one size, or give size = {W, H} to resize them", err(cnn.datasets.ImageFolder, mixed))
    assert.same({3, 3, 1, 2}, cnn.datasets.ImageFolder(mixed, {size = {3, 3}}):size())
    helpers.write_bytes(mixed .. "/a/3.png", "\137PNG\r\n\26\n garbage")
    assert.matches("^ImageFolder: " .. mixed:gsub("%p", "%%%0") .. "/a/3%.png: corrupt PNG",
      err(cnn.datasets.ImageFolder, mixed, {size = {3, 3}}))
    mkdir(mixed .. "/b")
    assert.equal("ImageFolder: the class folder " .. mixed .. "/b holds no image files",
      err(cnn.datasets.ImageFolder, mixed))
    local flat = mkdir(dir .. "/flat")
    cnn.saveimage(flat .. "/1.png", cnn.rand(4, 4))
    assert.equal("ImageFolder: " .. flat .. " holds no class folders (expected one sub-folder of images "
      .. "per class)", err(cnn.datasets.ImageFolder, flat))
    assert.matches("^ImageFolder: cannot open the folder " .. dir .. "/nowhere: No such file",
      err(cnn.datasets.ImageFolder, dir .. "/nowhere"))
    assert.equal("ImageFolder: size must be a list {W, H} of positive integers, got 28",
      err(cnn.datasets.ImageFolder, root, {size = 28}))
    assert.equal('ImageFolder: resize must be one of "bilinear", "nearest", got "cubic"',
      err(cnn.datasets.ImageFolder, root, {resize = "cubic"}))
    assert.matches('^ImageFolder: unknown option "channel"', err(cnn.datasets.ImageFolder, root, {channel = 1}))
  end)
end)

describe("datasets.CSV", function()
  it("reads the features as features×N and the label column apart, and trains on it", function()
    cnn.seed(3)
    local lines = {"a,b,label"}
    local pts = cnn.rand(2, 40):totable()
    for n = 1, 40 do
      local a, b = pts[1][n], pts[2][n]
      lines[#lines + 1] = ("%.6f, %.6f,%d"):format(a, b, a + b > 1 and 1 or 0)
    end
    local path = helpers.write_bytes(dir .. "/points.csv", table.concat(lines, "\r\n") .. "\n\n")
    local x, y, names = cnn.datasets.CSV(path, {label = "label"})
    assert.same({"a", "b"}, names)
    assert.same({2, 40}, x:size())
    assert.equal("Int32", y:dtype())
    assert.near(tonumber(("%.6f"):format(pts[1][7])), x[{1, 7}], 1e-6)
    assert.near(tonumber(("%.6f"):format(pts[2][7])), x[{2, 7}], 1e-6)
    local all = cnn.datasets.CSV(path)
    assert.same({3, 40}, all:size())

    local model = cnn.Dense(2, 2)
    local yh = cnn.onehotbatch(y, {0, 1})
    local loss = function(xb, yb) return cnn.logitcrossentropy(model(xb * 4 - 2), yb) end
    local before = loss(x, yh)
    local loader = cnn.DataLoader(x, yh, {batchsize = 10})
    cnn.train(loss, cnn.params(model), cnn.ncycle(loader, 60), cnn.Adam(0.05), {progress = false})
    assert.is_true(loss(x, yh) < before / 2, before .. " → " .. loss(x, yh))
  end)

  it("gives Float32 labels when they are not whole numbers", function()
    local path = helpers.write_bytes(dir .. "/reg.csv", "x,\"y\"\n1,0.5\n2,1.5\n")
    local x, y = cnn.datasets.CSV(path, {label = "y"})
    assert.same({{1, 2}}, x:totable())
    assert.equal("Float32", y:dtype())
    assert.same({0.5, 1.5}, y:totable())
  end)

  it("refuses ragged rows, non-numeric cells and missing columns, naming file and line", function()
    local ragged = helpers.write_bytes(dir .. "/ragged.csv", "a,b\n1,2\n3\n")
    assert.equal("CSV: " .. ragged .. " line 3 has 1 field, the header has 2", err(cnn.datasets.CSV, ragged))
    local word = helpers.write_bytes(dir .. "/word.csv", "a,b\n1,2\n3,four\n")
    assert.equal("CSV: " .. word .. ' line 3, column "b": "four" is not a number', err(cnn.datasets.CSV, word))
    assert.equal("CSV: " .. word .. ' has no column "c" (columns: "a", "b")',
      err(cnn.datasets.CSV, word, {label = "c"}))
    local empty = helpers.write_bytes(dir .. "/empty.csv", "")
    assert.equal("CSV: " .. empty .. " is empty (expected a header row)", err(cnn.datasets.CSV, empty))
    local header = helpers.write_bytes(dir .. "/header.csv", "a,b\n")
    assert.equal("CSV: " .. header .. " has a header but no rows", err(cnn.datasets.CSV, header))
    assert.matches("^CSV: cannot open " .. dir .. "/none.csv: No such file", err(cnn.datasets.CSV, dir .. "/none.csv"))
    assert.equal("CSV: label must be a string, got 1", err(cnn.datasets.CSV, word, {label = 1}))
  end)
end)

describe("datasets.IDX", function()
  it("reads any IDX file, naming itself in errors", function()
    local path = helpers.write_bytes(dir .. "/v.idx", "\0\0\8\1\0\0\0\3" .. string.char(1, 2, 3))
    local x, kind = cnn.datasets.IDX(path)
    assert.equal("ubyte", kind)
    assert.same({1, 2, 3}, x:totable())
    local bad = helpers.write_bytes(dir .. "/bad.idx", "\1\2")
    assert.matches("^IDX: ", err(cnn.datasets.IDX, bad))
  end)
end)

teardown(function()
  os.execute("rm -rf '" .. dir .. "'")
end)
