package naming

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestNormalize(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"ascii lowercased", "JOHN", "john"},
		{"acute accent stripped", "Álvarez", "alvarez"},
		{"tilde stripped", "Núñez", "nunez"},
		{"cedilla stripped", "Gonçalves", "goncalves"},
		{"umlaut stripped, not expanded", "Müller", "muller"},
		{"german sharp s", "Straße", "strasse"},
		{"german capital sharp s", "ẞ", "ss"},
		{"turkish dotted capital I, locale-independent", "İsmail", "ismail"},
		{"turkish dotless i", "Yılmaz", "yilmaz"},
		{"turkish capital I is plain i", "ILGIN", "ilgin"},
		{"nordic o with stroke", "Øyvind", "oyvind"},
		{"nordic ae ligature", "Æsa", "aesa"},
		{"nordic a with ring", "Åse", "ase"},
		{"icelandic thorn", "Þór", "thor"},
		{"icelandic eth", "Guðmundsson", "gudmundsson"},
		{"polish l with stroke", "Łukasz", "lukasz"},
		{"polish ogonek and acute", "Szczęsna Żółć", "szczesnazolc"},
		{"vietnamese d with stroke", "Đặng", "dang"},
		{"vietnamese stacked marks", "Nguyễn", "nguyen"},
		{"french oe ligature", "Cœur", "coeur"},
		{"cyrillic", "Дмитрий", "dmitrii"},
		{"cyrillic shch", "Щукин", "shchukin"},
		{"ukrainian ghe with upturn", "Ґудзь", "gudz"},
		{"greek", "Αλέξανδρος", "alexandros"},
		{"greek final sigma", "Νίκος", "nikos"},
		{"chinese", "李", "li"},
		{"chinese two syllables", "欧阳", "ouyang"},
		{"japanese hiragana", "さくら", "sakura"},
		{"japanese half-width katakana", "ｻﾄｼ", "satoshi"},
		{"japanese dakuten stays with its kana", "ワタナベ", "watanabe"},
		{"korean", "김민준", "gimminjun"},
		{"devanagari vowel signs kept", "अर्जुन", "arjun"},
		{"arabic", "محمد", "mhmd"},
		{"hebrew", "דוד", "dvd"},
		{"full-width latin", "Ｊｏｈｎ", "john"},
		{"ligature fi", "ﬁona", "fiona"},
		{"apostrophe vanishes", "O'Neil", "oneil"},
		{"typographic apostrophe vanishes", "O’Connor", "oconnor"},
		{"spaces vanish", "van der Berg", "vanderberg"},
		{"hyphen kept, symbol dropped", "Car-lo*s", "car-los"},
		{"dot and underscore kept", "J.R_R", "j.r_r"},
		{"digits kept", "Anna2", "anna2"},
		{"emoji vanishes", "😀", ""},
		{"symbols only", "!@#$%^&*()", ""},
		{"empty", "", ""},
		{"invalid utf-8 dropped", "Jo\xffhn", "john"},
		{"nul dropped", "Jo\x00hn", "john"},
		{"roman numeral compatibility", "Ⅻ", "xii"},
		{"circled digit", "①", "1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Normalize(tt.in); got != tt.want {
				t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestValid(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"letters", "carlos", true},
		{"letters and digits", "carlos2", true},
		{"single character", "a", true},
		{"single digit", "7", true},
		{"separators inside", "carlos.alvarez_ca-5", true},
		{"64 characters", strings.Repeat("a", 64), true},
		{"65 characters", strings.Repeat("a", 65), false},
		{"empty", "", false},
		{"starts with dot", ".carlos", false},
		{"starts with hyphen", "-carlos", false},
		{"ends with underscore", "carlos_", false},
		{"ends with dot", "carlos.", false},
		{"two dots", "carlos..alvarez", false},
		{"dot then hyphen", "carlos.-alvarez", false},
		{"underscore then dot", "carlos_.alvarez", false},
		{"uppercase", "Carlos", false},
		{"space", "carlos alvarez", false},
		{"apostrophe", "o'neil", false},
		{"non-ascii", "álvarez", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Valid(tt.in); got != tt.want {
				t.Errorf("Valid(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Álvarez", "Straße", "İsmail", "李", "O'Neil", "Car-lo*s", "\xff\xfe", "ẞ", "ｻﾄｼ", "Ⅻ①"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out := Normalize(in)
		if !utf8.ValidString(out) {
			t.Fatalf("Normalize(%q) = %q, not valid UTF-8", in, out)
		}
		for i := 0; i < len(out); i++ {
			if !allowed(out[i]) {
				t.Fatalf("Normalize(%q) = %q, holds %q", in, out, out[i])
			}
		}
		if again := Normalize(out); again != out {
			t.Fatalf("Normalize(Normalize(%q)) = %q, want %q (not idempotent)", in, again, out)
		}
	})
}
