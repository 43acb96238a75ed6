package emulator

// A culture is the names people of one language tend to have, for
// generated users. A name is written as its speakers write it; a name in a
// script that has no letter-by-letter Latin form carries the romanization
// an admin would use after a "|". Earlier names are more common.
type culture struct {
	weight int
	given  []string
	family []string
}

// cultures returns the name lists Generate draws from.
func cultures() []culture {
	return []culture{
		{30, // English
			[]string{"James", "John", "Michael", "Emily", "Olivia", "Emma", "William", "David", "Sarah", "Noah", "Liam", "Ava", "Sophia", "Jacob", "Elizabeth", "Mary", "Ethan", "Mason", "Chloe", "Zoë", "Robert", "Jennifer", "Madison", "Aiden"},
			[]string{"Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson", "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris", "Clark", "O'Brien", "O'Connor", "McDonald", "St. John", "Smith-Jones"}},
		{15, // Spanish
			[]string{"María", "José", "Juan", "Luis", "Carlos", "Ana", "Lucía", "Sofía", "Javier", "Alejandro", "Valentina", "Camila", "Mateo", "Santiago", "Ximena", "Martín", "Ángel", "Inés", "Begoña", "María José"},
			[]string{"García", "Rodríguez", "Martínez", "Hernández", "López", "González", "Pérez", "Sánchez", "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Núñez", "Muñoz", "Álvarez", "Jiménez", "Ibáñez", "de la Cruz"}},
		{6, // Chinese
			[]string{"伟|Wei", "芳|Fang", "娜|Na", "敏|Min", "静|Jing", "丽|Li", "强|Qiang", "磊|Lei", "洋|Yang", "艳|Yan", "杰|Jie", "涛|Tao", "明|Ming", "秀英|Xiuying", "子轩|Zixuan", "欣怡|Xinyi"},
			[]string{"王|Wang", "李|Li", "张|Zhang", "刘|Liu", "陈|Chen", "杨|Yang", "黄|Huang", "赵|Zhao", "吴|Wu", "周|Zhou", "徐|Xu", "孙|Sun"}},
		{6, // German
			[]string{"Lukas", "Maximilian", "Sophie", "Hannah", "Leonie", "Jürgen", "Jörg", "Björn", "Günter", "Anna", "Felix", "Lena"},
			[]string{"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schäfer", "Groß", "Köhler", "Weiß"}},
		{5, // French
			[]string{"Léa", "Chloé", "Camille", "Élodie", "Hélène", "François", "Jérôme", "Loïc", "Théo", "Noël", "Manon", "Hugo"},
			[]string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Lefèvre", "Girard", "Bonnet", "Dupont"}},
		{4, // Portuguese
			[]string{"João", "Gabriel", "Lucas", "Beatriz", "Inês", "Ana", "Gonçalo", "Luíza", "Matheus", "Júlia"},
			[]string{"Silva", "Santos", "Oliveira", "Souza", "Pereira", "Costa", "Rodrigues", "Almeida", "Gonçalves", "Araújo"}},
		{4, // Vietnamese
			[]string{"Anh", "Minh", "Hương", "Linh", "Thảo", "Dũng", "Hùng", "Trang", "Quang", "Phương"},
			[]string{"Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng"}},
		{4, // Russian
			[]string{"Александр", "Дмитрий", "Анна", "Мария", "Сергей", "Елена", "Ольга", "Иван", "Наталья", "Алексей", "Юлия", "Ксения"},
			[]string{"Иванов", "Смирнов", "Кузнецов", "Попов", "Васильев", "Петров", "Соколова", "Михайлова", "Новикова", "Фёдорова", "Морозов", "Волков"}},
		{4, // Hindi
			[]string{"राहुल|Rahul", "प्रिया|Priya", "अमित|Amit", "अनीता|Anita", "आरव|Aarav", "पूजा|Pooja", "विकास|Vikas", "नेहा|Neha", "अर्जुन|Arjun", "सुनीता|Sunita"},
			[]string{"शर्मा|Sharma", "कुमार|Kumar", "सिंह|Singh", "पटेल|Patel", "गुप्ता|Gupta", "वर्मा|Verma", "यादव|Yadav", "जोशी|Joshi"}},
		{3, // Arabic
			[]string{"محمد|Mohammed", "أحمد|Ahmed", "فاطمة|Fatima", "علي|Ali", "عمر|Omar", "ليلى|Layla", "يوسف|Youssef", "مريم|Maryam", "خالد|Khaled", "نور|Nour"},
			[]string{"حسن|Hassan", "العلي|Al-Ali", "حسين|Hussein", "إبراهيم|Ibrahim", "عبدالله|Abdullah", "منصور|Mansour", "سعيد|Saeed", "الحسن|Al-Hassan"}},
		{3, // Korean
			[]string{"민준|Minjun", "서연|Seoyeon", "지훈|Jihoon", "서윤|Seoyun", "도윤|Doyun", "하은|Haeun", "지민|Jimin", "예준|Yejun"},
			[]string{"김|Kim", "이|Lee", "박|Park", "최|Choi", "정|Jung", "강|Kang", "조|Cho", "윤|Yoon"}},
		{3, // Japanese
			[]string{"翔太|Shota", "陽翔|Haruto", "蓮|Ren", "結衣|Yui", "陽菜|Hina", "美咲|Misaki", "大輝|Daiki", "さくら|Sakura", "健太|Kenta", "愛|Ai"},
			[]string{"佐藤|Sato", "鈴木|Suzuki", "高橋|Takahashi", "田中|Tanaka", "伊藤|Ito", "渡辺|Watanabe", "山本|Yamamoto", "中村|Nakamura", "小林|Kobayashi", "加藤|Kato"}},
		{3, // Polish
			[]string{"Łukasz", "Paweł", "Małgorzata", "Agnieszka", "Krzysztof", "Wojciech", "Zofia", "Grzegorz", "Katarzyna"},
			[]string{"Nowak", "Kowalski", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Dąbrowski"}},
		{3, // Turkish
			[]string{"Mehmet", "Ayşe", "Fatma", "Mustafa", "Emre", "Elif", "Şükrü", "Çağla", "Gülşen", "Oğuz"},
			[]string{"Yılmaz", "Kaya", "Demir", "Şahin", "Çelik", "Yıldız", "Yıldırım", "Öztürk", "Aydın", "Özdemir"}},
		{2, // Ukrainian
			[]string{"Олександр", "Оксана", "Тарас", "Ірина", "Андрій", "Юлія", "Богдан", "Наталія"},
			[]string{"Шевченко", "Бойко", "Коваленко", "Бондаренко", "Ткаченко", "Кравченко", "Олійник", "Мельник"}},
		{2, // Greek
			[]string{"Γιώργος", "Νίκος", "Μαρία", "Ελένη", "Δημήτρης", "Κατερίνα", "Γιάννης", "Σοφία"},
			[]string{"Παπαδόπουλος", "Παπαδάκης", "Γεωργίου", "Οικονόμου", "Νικολάου", "Βασιλείου", "Κωνσταντίνου", "Αθανασίου"}},
		{2, // Dutch
			[]string{"Daan", "Sem", "Fleur", "Lotte", "Bram", "Anouk", "Sanne", "Joris"},
			[]string{"de Jong", "Jansen", "de Vries", "van den Berg", "van Dijk", "Bakker", "Visser", "van der Meer"}},
		{2, // Nordic
			[]string{"Lars", "Freja", "Astrid", "Bjørn", "Søren", "Åsa", "Ingrid", "Magnús", "Sigrún", "Þórður"},
			[]string{"Hansen", "Johansson", "Nielsen", "Jørgensen", "Sørensen", "Lindqvist", "Åberg", "Ødegård", "Guðmundsdóttir", "Þorsteinsson"}},
		{2, // Nigerian
			[]string{"Chinedu", "Ngozi", "Adébáyọ̀", "Olúwaseun", "Chiamaka", "Emeka", "Folake", "Temitọ́pẹ́"},
			[]string{"Okafor", "Okonkwo", "Adéyẹmí", "Balogun", "Eze", "Nwosu", "Ògúnlẹ́yẹ", "Adebayo"}},
	}
}
