"""Word lists for the synthetic image-text world: real English nouns (so an
off-the-shelf lemmatiser has something to do), with their plurals, and filler
words that are never concepts."""

# noun: plural. Irregular plurals and -es/-ies forms are deliberate: they are what
# separates a lemmatised index from a lowercased one.
NOUNS = {
    "apple": "apples", "anchor": "anchors", "arrow": "arrows", "axe": "axes", "bag": "bags", "ball": "balls",
    "banana": "bananas", "barrel": "barrels", "basket": "baskets", "bat": "bats", "bear": "bears", "bed": "beds",
    "bee": "bees", "bell": "bells", "belt": "belts", "bench": "benches", "berry": "berries", "bicycle": "bicycles",
    "bird": "birds", "blanket": "blankets", "boat": "boats", "bone": "bones", "book": "books", "boot": "boots",
    "bottle": "bottles", "bowl": "bowls", "box": "boxes", "bread": "breads", "brick": "bricks", "bridge": "bridges",
    "broom": "brooms", "brush": "brushes", "bucket": "buckets", "bus": "buses", "butterfly": "butterflies",
    "button": "buttons", "cabbage": "cabbages", "cactus": "cacti", "cake": "cakes", "camel": "camels",
    "camera": "cameras", "candle": "candles", "cannon": "cannons", "canoe": "canoes", "cap": "caps", "car": "cars",
    "carpet": "carpets", "carrot": "carrots", "castle": "castles", "cat": "cats", "chair": "chairs",
    "cherry": "cherries", "chicken": "chickens", "child": "children", "church": "churches", "clock": "clocks",
    "cloud": "clouds", "coat": "coats", "coin": "coins", "comb": "combs", "cow": "cows", "crab": "crabs",
    "crane": "cranes", "crow": "crows", "crown": "crowns", "cup": "cups", "curtain": "curtains", "deer": "deer",
    "desk": "desks", "dish": "dishes", "dog": "dogs", "doll": "dolls", "dolphin": "dolphins", "donkey": "donkeys",
    "door": "doors", "dragon": "dragons", "drum": "drums", "duck": "ducks", "eagle": "eagles", "egg": "eggs",
    "elephant": "elephants", "envelope": "envelopes", "fan": "fans", "feather": "feathers", "fence": "fences",
    "fish": "fish", "flag": "flags", "flower": "flowers", "flute": "flutes", "fly": "flies", "foot": "feet",
    "fork": "forks", "fox": "foxes", "frog": "frogs", "glove": "gloves", "goat": "goats", "goose": "geese",
    "grape": "grapes", "guitar": "guitars", "hammer": "hammers", "hat": "hats", "hedgehog": "hedgehogs",
    "helmet": "helmets", "hen": "hens", "horse": "horses", "house": "houses", "jacket": "jackets", "jar": "jars",
    "jug": "jugs", "kangaroo": "kangaroos", "kettle": "kettles", "key": "keys", "kite": "kites", "knife": "knives",
    "ladder": "ladders", "lamp": "lamps", "leaf": "leaves", "lemon": "lemons", "lion": "lions", "lizard": "lizards",
    "lock": "locks", "loaf": "loaves", "map": "maps", "mask": "masks", "mirror": "mirrors", "monkey": "monkeys",
    "moose": "moose", "motorcycle": "motorcycles", "mouse": "mice", "mug": "mugs", "mushroom": "mushrooms",
    "nail": "nails", "needle": "needles", "nest": "nests", "onion": "onions", "orange": "oranges", "owl": "owls",
    "ox": "oxen", "oyster": "oysters", "paddle": "paddles", "pan": "pans", "parrot": "parrots", "peach": "peaches",
    "pear": "pears", "pen": "pens", "pencil": "pencils", "penguin": "penguins", "piano": "pianos", "pig": "pigs",
    "pillow": "pillows", "pineapple": "pineapples", "pipe": "pipes", "plate": "plates", "plum": "plums",
    "potato": "potatoes", "pumpkin": "pumpkins", "puppy": "puppies", "rabbit": "rabbits", "radio": "radios",
    "rake": "rakes", "rat": "rats", "ring": "rings", "robot": "robots", "rocket": "rockets", "rope": "ropes",
    "rose": "roses", "sail": "sails", "sandal": "sandals", "saw": "saws", "scarf": "scarves",
    "scissors": "scissors", "scooter": "scooters", "seal": "seals", "shark": "sharks", "sheep": "sheep",
    "shelf": "shelves", "shell": "shells", "shirt": "shirts", "shoe": "shoes", "shovel": "shovels", "sink": "sinks",
    "skateboard": "skateboards", "skull": "skulls", "snail": "snails", "snake": "snakes", "sock": "socks",
    "sofa": "sofas", "spider": "spiders", "spoon": "spoons", "squirrel": "squirrels", "star": "stars",
    "statue": "statues", "stool": "stools", "strawberry": "strawberries", "suitcase": "suitcases", "swan": "swans",
    "sword": "swords", "table": "tables", "teapot": "teapots", "tent": "tents", "tiger": "tigers", "tire": "tires",
    "toaster": "toasters", "tomato": "tomatoes", "tooth": "teeth", "torch": "torches", "towel": "towels",
    "tower": "towers", "tractor": "tractors", "train": "trains", "tree": "trees", "truck": "trucks",
    "trumpet": "trumpets", "turtle": "turtles", "umbrella": "umbrellas", "vase": "vases", "violin": "violins",
    "wagon": "wagons", "wallet": "wallets", "watch": "watches", "whale": "whales", "wheel": "wheels",
    "whistle": "whistles", "wolf": "wolves", "woman": "women", "man": "men", "worm": "worms", "zebra": "zebras",
    "goldfish": "goldfish", "lighthouse": "lighthouses", "windmill": "windmills", "igloo": "igloos",
    "volcano": "volcanoes", "compass": "compasses", "hourglass": "hourglasses", "harp": "harps",
    "pretzel": "pretzels", "cookie": "cookies", "sandwich": "sandwiches", "pizza": "pizzas", "lobster": "lobsters",
    "octopus": "octopuses", "jellyfish": "jellyfish", "stamp": "stamps", "magnet": "magnets", "battery": "batteries",
    "calculator": "calculators", "microscope": "microscopes", "telescope": "telescopes", "trophy": "trophies",
    "medal": "medals", "pyramid": "pyramids", "cave": "caves", "waterfall": "waterfalls", "cliff": "cliffs",
}

# Two-word concepts are counted as AND of their words anywhere in a caption, as the
# paper's index does. Some of their words are concepts too ("rocking horse", "horse"):
# a caption about a rocking horse then counts as a horse, as it would in the paper.
COMPOUNDS = {
    "fire hydrant": "fire hydrants", "traffic cone": "traffic cones", "tennis racket": "tennis rackets",
    "sea urchin": "sea urchins", "teddy bear": "teddy bears", "paper lantern": "paper lanterns",
    "garden gnome": "garden gnomes", "rocking horse": "rocking horses", "ice skate": "ice skates",
    "hot balloon": "hot balloons", "snow globe": "snow globes", "park bench": "park benches",
    "water tower": "water towers", "golf club": "golf clubs", "race car": "race cars", "tea kettle": "tea kettles",
    "pine cone": "pine cones", "stop sign": "stop signs", "police car": "police cars", "wine glass": "wine glasses",
    "mail box": "mail boxes", "music box": "music boxes", "soup pot": "soup pots", "tool belt": "tool belts",
    "sun hat": "sun hats",
}

ADJECTIVES = ("red", "blue", "green", "small", "large", "old", "new", "shiny", "wooden", "broken", "tiny", "huge",
              "yellow", "purple", "dusty", "bright", "dark", "striped", "spotted", "plastic", "metal", "soft",
              "heavy", "light", "round", "square", "wet", "dry", "cold", "warm", "clean", "dirty", "happy", "sleepy",
              "quiet", "loud", "fancy", "plain", "golden", "silver")
FILLERS = ("grass", "street", "beach", "kitchen", "garden", "field", "road", "room", "floor", "wall", "sky", "river",
           "lake", "forest", "market", "shop", "yard", "hill", "mountain", "city", "village", "farm", "office",
           "window", "corner", "shadow", "sunlight", "morning", "evening", "night", "winter", "summer", "rain",
           "snow", "wind", "background", "foreground", "picture", "view", "scene")
NUMBERS = ("two", "three", "four", "five", "several", "many", "some")
TEMPLATES_ONE = ("a photo of a {adj} {s}", "the {s} in the {f}", "a {s} near the {f}",
                 "there is a {adj} {s} on the {f}", "close up of a {s}", "a {adj} {s} against the {f}")
TEMPLATES_MANY = ("{n} {p} in the {f}", "a photo of {n} {adj} {p}", "{n} {p} near the {f}")
TEMPLATES_TWO = ("a {s} and a {s2} in the {f}", "a {adj} {s} next to a {s2}", "{n} {p} with a {s2}")
PROMPTS = ("a photo of a {s}", "a picture of a {s}", "a {s}", "a close up photo of the {s}", "a photo of the {s}")
