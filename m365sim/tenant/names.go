package tenant

// Name lists for generated people. Display names keep their accents; user
// principal names are transliterated to ASCII (see asciiFold), as
// administrators and provisioning tools do. Apostrophes and hyphens survive
// into UPNs on purpose: a startswith filter on "o'" must escape the quote.
var givenNames = []string{
	"James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David", "Elizabeth",
	"William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah", "Charles", "Karen",
	"Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony", "Margaret", "Mark", "Sandra",
	"Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily", "Andrew", "Donna", "Joshua", "Michelle",
	"Kenneth", "Carol", "Kevin", "Amanda", "Brian", "Dorothy", "George", "Melissa", "Timothy", "Deborah",
	"Ronald", "Stephanie", "Edward", "Rebecca", "Jason", "Sharon", "Jeffrey", "Laura", "Ryan", "Cynthia",
	"Jacob", "Kathleen", "Gary", "Amy", "Nicholas", "Angela", "Eric", "Shirley", "Jonathan", "Anna",
	"Stephen", "Brenda", "Larry", "Pamela", "Justin", "Emma", "Scott", "Nicole", "Brandon", "Helen",
	"Benjamin", "Samantha", "Samuel", "Katherine", "Gregory", "Christine", "Alexander", "Debra", "Frank", "Rachel",
	"Raymond", "Carolyn", "Patrick", "Janet", "Jack", "Catherine", "Dennis", "Maria", "Jerry", "Heather",
	"Tyler", "Diane", "Aaron", "Ruth", "Jose", "Julie", "Adam", "Olivia", "Nathan", "Joyce",
	"Henry", "Virginia", "Zachary", "Victoria", "Douglas", "Kelly", "Peter", "Lauren", "Kyle", "Christina",
	"Noah", "Joan", "Ethan", "Evelyn", "Jeremy", "Judith", "Walter", "Megan", "Christian", "Andrea",
	"Keith", "Cheryl", "Roger", "Hannah", "Terry", "Jacqueline", "Austin", "Martha", "Sean", "Gloria",
	"Gerald", "Teresa", "Carl", "Ann", "Harold", "Sara", "Dylan", "Madison", "Arthur", "Frances",
	"Lawrence", "Kathryn", "Jordan", "Janice", "Jesse", "Jean", "Bryan", "Abigail", "Billy", "Alice",
	"Bruce", "Judy", "Gabriel", "Sophia", "Joe", "Grace", "Logan", "Denise", "Albert", "Amber",
	"Willie", "Doris", "Alan", "Marilyn", "Eugene", "Danielle", "Russell", "Beverly", "Vincent", "Isabella",
	"Philip", "Theresa", "Bobby", "Diana", "Johnny", "Natalie", "Bradley", "Brittany", "Roy", "Charlotte",
	"José", "Zoë", "Björn", "Søren", "François", "Łukasz", "Małgorzata", "Renée", "Chloé", "Jürgen",
	"Ólafur", "Agnès", "Hélène", "Íñigo", "Mónica", "Ångström", "Noémie", "Zoltán", "Åsa", "Çelik",
	"Aiko", "Haruto", "Yuki", "Sakura", "Wei", "Li", "Mei", "Hao", "Priya", "Arjun",
	"Ananya", "Rohan", "Fatima", "Omar", "Aisha", "Yusuf", "Kwame", "Ama", "Chidi", "Ngozi",
	"Xavier", "Xin", "Xiomara", "Quentin", "Quinn", "Ursula", "Uma", "Umar", "Ivan", "Irina",
	"Olga", "Oscar", "Vera", "Viktor", "Yara", "Yannick", "Zara", "Zeke", "Ewa", "Elif",
}

var surnames = []string{
	"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
	"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
	"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
	"Walker", "Young", "Allen", "King", "Wright", "Scott", "Torres", "Nguyen", "Hill", "Flores",
	"Green", "Adams", "Nelson", "Baker", "Hall", "Rivera", "Campbell", "Mitchell", "Carter", "Roberts",
	"Gomez", "Phillips", "Evans", "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes",
	"Stewart", "Morris", "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper",
	"Peterson", "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson",
	"Watson", "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes",
	"Price", "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
	"Powell", "Jenkins", "Perry", "Russell", "Sullivan", "Bell", "Coleman", "Butler", "Henderson", "Barnes",
	"Gonzales", "Fisher", "Vasquez", "Simmons", "Romero", "Jordan", "Patterson", "Alexander", "Hamilton", "Graham",
	"Reynolds", "Griffin", "Wallace", "Moreno", "West", "Cole", "Hayes", "Bryant", "Herrera", "Gibson",
	"Ellis", "Tran", "Medina", "Aguilar", "Stevens", "Murray", "Ford", "Castro", "Marshall", "Owens",
	"Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Schulz", "Hoffmann",
	"Dubois", "Lefèvre", "Moreau", "Laurent", "Girard", "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau",
	"Sørensen", "Jørgensen", "Nielsen", "Hansen", "Andersson", "Johansson", "Karlsson", "Nilsson", "Öberg", "Åkesson",
	"Kowalski", "Nowak", "Wiśniewski", "Wójcik", "Kowalczyk", "Kamiński", "Lewandowski", "Zieliński", "Szymański", "Woźniak",
	"García", "Fernández", "González", "Rodríguez", "López", "Martínez", "Sánchez", "Pérez", "Gómez", "Núñez",
	"Rossi", "Russo", "Ferrari", "Esposito", "Bianchi", "Romano", "Colombo", "Ricci", "Marino", "Greco",
	"O'Brien", "O'Connor", "O'Neill", "D'Angelo", "D'Souza", "Smith-Jones", "Lloyd-Webber", "van der Berg", "de Vries", "van Dijk",
	"Tanaka", "Suzuki", "Takahashi", "Watanabe", "Yamamoto", "Nakamura", "Wang", "Zhang", "Liu", "Chen",
	"Sharma", "Singh", "Kumar", "Gupta", "Iyer", "Okafor", "Adeyemi", "Mensah", "Okoye", "Abubakar",
	"Quintero", "Quigley", "Ulrich", "Underwood", "Xu", "Ximenes", "Yilmaz", "Yates", "Zimmerman", "Zhou",
	"Ivanov", "Ivanova", "Eriksen", "Ekström", "Østergaard", "Çelik", "Öztürk", "Yıldız", "Ünal", "Ibáñez",
}

// serviceAccountNames are shared mailboxes and service accounts; they give
// the directory UPNs that start with digits and an underscore, so that
// enumeration sharded by first character is exercised on every class.
var serviceAccountNames = []string{
	"0day.response", "1st-line.support", "24x7.noc", "365.helpdesk", "3d.printing", "4k.studio",
	"5g.lab", "6sigma.office", "7seas.logistics", "8ball.games", "9am.standup", "_svc.backup",
	"_sync.connector", "accounts.payable", "it.helpdesk", "facilities", "reception", "noreply",
	"scanner", "boardroom", "marketing.events", "hr.recruiting", "payroll", "security.alerts",
}

var partnerDomains = []string{"fabrikam.com", "northwindtraders.com", "tailspintoys.com", "wingtiptoys.com",
	"adventure-works.com", "litwareinc.com", "proseware.com", "gmail.com", "outlook.com"}

var departments = []struct {
	Name   string
	Weight int
	Titles []string
}{
	{"Sales", 16, []string{"Account Executive", "Sales Representative", "Sales Manager", "Inside Sales Representative", "Regional Sales Director"}},
	{"Marketing", 8, []string{"Marketing Specialist", "Content Strategist", "Marketing Manager", "Brand Manager", "SEO Analyst"}},
	{"Engineering", 18, []string{"Software Engineer", "Senior Software Engineer", "Principal Engineer", "Engineering Manager", "QA Engineer", "Site Reliability Engineer"}},
	{"Information Technology", 6, []string{"IT Support Specialist", "Systems Administrator", "Network Engineer", "IT Manager", "Security Analyst"}},
	{"Finance", 6, []string{"Accountant", "Financial Analyst", "Controller", "Accounts Payable Clerk", "Finance Manager"}},
	{"Human Resources", 4, []string{"HR Generalist", "Recruiter", "HR Business Partner", "Payroll Specialist"}},
	{"Operations", 10, []string{"Operations Analyst", "Operations Manager", "Logistics Coordinator", "Warehouse Associate"}},
	{"Customer Support", 12, []string{"Support Engineer", "Customer Success Manager", "Support Team Lead", "Technical Account Manager"}},
	{"Legal", 2, []string{"Counsel", "Paralegal", "Compliance Officer"}},
	{"Product Management", 5, []string{"Product Manager", "Senior Product Manager", "Product Owner", "UX Designer"}},
	{"Research", 4, []string{"Research Scientist", "Data Scientist", "Research Assistant"}},
	{"Executive", 1, []string{"Chief Executive Officer", "Chief Financial Officer", "Chief Technology Officer", "Vice President"}},
	{"Facilities", 3, []string{"Facilities Coordinator", "Office Manager", "Receptionist"}},
	{"Manufacturing", 5, []string{"Production Supervisor", "Machine Operator", "Quality Inspector", "Plant Manager"}},
}

var usageLocations = []struct {
	Code   string
	Weight int
}{
	{"US", 420}, {"GB", 100}, {"DE", 80}, {"FR", 60}, {"IN", 60}, {"CA", 40}, {"AU", 30}, {"NL", 30},
	{"JP", 30}, {"BR", 30}, {"ES", 20}, {"IT", 20}, {"SE", 20}, {"PL", 15}, {"DK", 10}, {"IE", 10},
	{"MX", 10}, {"SG", 5}, {"ZA", 5}, {"NG", 5},
}

var companies = []struct{ Name, Domain string }{
	{"Contoso", "contoso"}, {"Fabrikam", "fabrikam"}, {"Northwind Traders", "northwindtraders"},
	{"Tailspin Toys", "tailspintoys"}, {"Woodgrove Bank", "woodgrovebank"}, {"Adventure Works", "adventureworks"},
	{"Litware", "litware"}, {"Proseware", "proseware"}, {"Wingtip Toys", "wingtiptoys"}, {"Alpine Ski House", "alpineskihouse"},
}

// asciiFold transliterates a name part for a UPN: accents dropped, spaces
// removed, lower case; apostrophes and hyphens kept.
func asciiFold(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || c == ' ' || (c >= 'A' && c <= 'Z') {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	out := make([]byte, 0, len(s))
	for _, r := range s {
		switch {
		case r == ' ':
		case r >= 'A' && r <= 'Z':
			out = append(out, byte(r+'a'-'A'))
		case r < 0x80:
			out = append(out, byte(r))
		default:
			out = append(out, fold[r]...)
		}
	}
	return string(out)
}

var fold = map[rune]string{
	'á': "a", 'à': "a", 'â': "a", 'ä': "a", 'å': "a", 'Å': "a", 'ã': "a", 'æ': "ae",
	'ç': "c", 'Ç': "c", 'é': "e", 'è': "e", 'ê': "e", 'ë': "e", 'í': "i", 'ì': "i", 'î': "i", 'ï': "i", 'ı': "i", 'Í': "i",
	'ñ': "n", 'ó': "o", 'ò': "o", 'ô': "o", 'ö': "o", 'ø': "o", 'Ö': "o", 'Ø': "o", 'Ó': "o", 'õ': "o",
	'ú': "u", 'ù': "u", 'û': "u", 'ü': "u", 'Ü': "u", 'ß': "ss", 'ł': "l", 'Ł': "l", 'ś': "s", 'ź': "z", 'ż': "z",
	'ń': "n", 'ą': "a", 'ę': "e", 'ć': "c", 'ğ': "g", 'ş': "s", 'İ': "i",
}
