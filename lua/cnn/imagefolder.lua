--- The user's own images: a folder with one sub-folder per class.
--
-- `cnn.datasets.ImageFolder("pets")` reads pets/cat/*.png, pets/dog/*.jpg,
-- ...: PNG, JPEG and binary PGM/PPM files, decoded in C. Classes are the
-- sub-folders sorted by name; files in a class are read in name order;
-- names starting with a dot are skipped.
-- @module cnn.imagefolder

local core = require "cnn.core"
local errors = require "cnn.errors"
local argcheck = require "cnn.argcheck"

--- The entries of a folder sorted by name (dot files left out), and
-- whether each is a folder.
local function entries(fname, dir)
  local ok, names, isdir = pcall(core.listdir, dir)
  if not ok then errors.relocate(names, fname, "listdir") end
  local order = {}
  for i, name in ipairs(names) do
    if name:sub(1, 1) ~= "." then order[#order + 1] = {name = name, dir = isdir[i]} end
  end
  table.sort(order, function(a, b) return a.name < b.name end)
  return order
end

local function check_options(fname, opts)
  opts = argcheck.options(fname, opts, {channels = true, size = true, resize = true, onehot = true})
  local o = {resize = "bilinear"}
  if opts.channels ~= nil then o.channels = argcheck.choice(fname, "channels", opts.channels, {1, 3}) end
  if opts.size ~= nil then
    local s = opts.size
    if not (argcheck.is_list(s) and #s == 2 and math.type(s[1]) == "integer" and s[1] >= 1
        and math.type(s[2]) == "integer" and s[2] >= 1) then
      argcheck.fail(fname, "size", "a list {W, H} of positive integers", s)
    end
    o.width, o.height = s[1], s[2]
  end
  if opts.resize ~= nil then o.resize = argcheck.choice(fname, "resize", opts.resize, {"bilinear", "nearest"}) end
  local onehot = argcheck.optional_boolean(fname, "onehot", opts.onehot, false)
  return o, onehot
end

--- Images in sub-folders, one per class (the folder names, sorted, are
-- the classes), as the MNIST loader gives them: images W×H×C×N Float32 in
-- [0, 1] and an Int32 vector of labels 0..K-1 (label l is classes[l + 1],
-- as FashionMNIST's), or with `onehot` a Float32 K×N one-hot matrix.
-- Every image must have the first one's size unless `size` resizes them.
-- A file that is not an image, a corrupt one, an empty class folder or a
-- folder without class folders is an error naming it.
-- @function datasets.ImageFolder
-- @tparam string dir the folder
-- @tparam[opt] table opts channels (1 or 3; default the first image's:
-- gray images become RGB by copies, RGB becomes gray by luma),
-- size ({W, H}: resize every image to it), resize ("bilinear", the
-- default, or "nearest"), onehot (false)
-- @treturn Tensor images W×H×C×N
-- @treturn Tensor labels: Int32 vector of N (0-based), or K×N Float32 with onehot
-- @treturn table the class names, sorted
-- @usage local pets = os.tmpname(); os.remove(pets)
-- os.execute("mkdir -p " .. pets .. "/cat " .. pets .. "/dog")
-- cnn.saveimage(pets .. "/cat/1.png", cnn.rand(80, 60, 3)); cnn.saveimage(pets .. "/dog/1.png", cnn.rand(64, 64, 3))
-- local x, y, classes = cnn.datasets.ImageFolder(pets, {size = {64, 64}}) --> 64×64×3×2, {0, 1}, {"cat", "dog"}
local function ImageFolder(dir, opts)
  local fname = "ImageFolder"
  argcheck.string(fname, "dir", dir)
  local o, onehot = check_options(fname, opts)
  local classes, paths, labels = {}, {}, {}
  for _, e in ipairs(entries(fname, dir)) do
    if e.dir then
      classes[#classes + 1] = e.name
      local folder = dir .. "/" .. e.name
      local before = #paths
      for _, f in ipairs(entries(fname, folder)) do
        if not f.dir then
          paths[#paths + 1] = folder .. "/" .. f.name
          labels[#labels + 1] = #classes - 1
        end
      end
      if #paths == before then
        errors.raise(("%s: the class folder %s holds no image files"):format(fname, folder))
      end
    end
  end
  if #classes == 0 then
    errors.raise(("%s: %s holds no class folders (expected one sub-folder of images per class)")
      :format(fname, dir))
  end
  local ok, x = pcall(core.read_images, paths, o)
  if not ok then errors.relocate(x, fname, "read_images") end
  local y = core.tensor(labels, "int32")
  if onehot then
    local set = {}
    for i = 1, #classes do set[i] = i - 1 end
    y = core.onehotbatch(y, set)
  end
  return x, y, classes
end

return ImageFolder
