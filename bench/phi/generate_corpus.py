#!/usr/bin/env python3
"""Deterministic generator of SYNTHETIC clinical text with gold PHI spans (Ward PHI evaluation corpus).

Every name, date, number and place is invented (Faker plus hand-written lists); no real patient data.

    python3 bench/phi/generate_corpus.py --seed 7 --count 3000 --out gold.jsonl

Output: JSONL, one object per line:
    {"id": "doc-000001", "kind": "chat", "text": "...", "spans": [{"start": B, "end": B, "label": "NAME"}]}
Offsets are UTF-8 byte offsets into `text`; spans are sorted and non-overlapping. See README.md for the
span conventions. Same seed + count + Faker version => byte-identical output.
"""

import argparse
import datetime as dt
import ipaddress
import json
import re
import random
import sys
import unicodedata

try:
    from faker import Faker
except ImportError:  # pragma: no cover - message for the operator
    sys.exit("generate_corpus.py needs Faker: pip install faker")

LABELS = (
    "NAME", "DATE", "AGE", "PHONE", "FAX", "EMAIL", "SSN", "MRN", "HEALTH_PLAN_ID", "ACCOUNT_NUMBER",
    "LICENSE_NUMBER", "VEHICLE_ID", "DEVICE_ID", "URL", "IP_ADDRESS", "BIOMETRIC_ID", "ADDRESS",
    "LOCATION", "FACILITY", "OTHER_ID",
)

# Share of each document kind, in percent (sums to 100).
KIND_SHARES = (
    ("chat", 35), ("message", 15), ("note", 15), ("dictation", 5), ("letter", 5),
    ("negative-chat", 12), ("negative-message", 4), ("negative-note", 5),
    ("negative-dictation", 2), ("negative-letter", 2),
)

# --------------------------------------------------------------------------------------------------
# Word lists (all non-PHI unless said otherwise)
# --------------------------------------------------------------------------------------------------

DRUG_DOSES = [
    ("metformin", "500 mg BID"), ("metformin", "1000 mg twice daily"), ("lisinopril", "10 mg daily"),
    ("lisinopril", "20 mg PO daily"), ("amlodipine", "5 mg daily"), ("atorvastatin", "40 mg nightly"),
    ("rosuvastatin", "20 mg"), ("Eliquis", "5 mg BID"), ("apixaban", "2.5 mg twice daily"),
    ("Lasix", "40 mg daily"), ("furosemide", "40 mg IV BID"), ("Xarelto", "20 mg with dinner"),
    ("warfarin", "5 mg daily"), ("Coumadin", "2.5 mg"), ("insulin glargine", "22 units at bedtime"),
    ("Lantus", "18 units qHS"), ("Humalog", "per sliding scale"), ("Ozempic", "0.5 mg weekly"),
    ("Jardiance", "10 mg daily"), ("Farxiga", "10 mg daily"), ("Entresto", "24/26 mg BID"),
    ("carvedilol", "6.25 mg BID"), ("metoprolol succinate", "50 mg daily"), ("metoprolol tartrate", "25 mg BID"),
    ("levothyroxine", "75 mcg daily"), ("Synthroid", "88 mcg"), ("sertraline", "50 mg daily"),
    ("Zoloft", "100 mg"), ("escitalopram", "10 mg"), ("gabapentin", "300 mg TID"),
    ("prednisone", "40 mg x 5 days"), ("amoxicillin", "500 mg TID"), ("amoxicillin-clavulanate", "875 mg BID"),
    ("azithromycin", "250 mg daily"), ("ceftriaxone", "1 g IV q24h"), ("vancomycin", "1.25 g IV q12h"),
    ("piperacillin-tazobactam", "4.5 g IV q6h"), ("Keppra", "500 mg BID"), ("levetiracetam", "750 mg BID"),
    ("Depakote", "500 mg BID"), ("Norco", "5/325 mg q6h PRN"), ("Tylenol", "650 mg q6h PRN"),
    ("acetaminophen", "1 g q8h"), ("ibuprofen", "600 mg q6h"), ("Advil", "400 mg"), ("ondansetron", "4 mg IV"),
    ("Zofran", "4 mg ODT"), ("pantoprazole", "40 mg daily"), ("Protonix", "40 mg IV"), ("famotidine", "20 mg BID"),
    ("Flomax", "0.4 mg qHS"), ("tamsulosin", "0.4 mg"), ("Humira", "40 mg every other week"),
    ("Keytruda", "200 mg every 3 weeks"), ("methotrexate", "15 mg weekly"), ("hydroxychloroquine", "200 mg BID"),
    ("Plavix", "75 mg daily"), ("clopidogrel", "75 mg"), ("aspirin", "81 mg daily"), ("Brilinta", "90 mg BID"),
    ("spironolactone", "25 mg daily"), ("hydrochlorothiazide", "25 mg"), ("losartan", "50 mg daily"),
    ("Januvia", "100 mg daily"), ("glipizide", "5 mg BID"), ("Trulicity", "1.5 mg weekly"),
    ("Seroquel", "25 mg qHS"), ("quetiapine", "50 mg"), ("haloperidol", "0.5 mg IV"), ("Ativan", "1 mg"),
    ("lorazepam", "0.5 mg PRN"), ("Ambien", "5 mg qHS"), ("melatonin", "3 mg"), ("albuterol", "2 puffs q4h PRN"),
    ("Symbicort", "160/4.5, 2 puffs BID"), ("tiotropium", "18 mcg daily"), ("montelukast", "10 mg"),
    ("Zyrtec", "10 mg"), ("Benadryl", "25 mg"), ("oxycodone", "5 mg q4h PRN"), ("morphine", "2 mg IV q2h PRN"),
    ("hydromorphone", "0.5 mg IV"), ("naloxone", "0.4 mg IV"), ("Narcan", "4 mg intranasal"),
    ("potassium chloride", "20 mEq"), ("magnesium sulfate", "2 g IV"), ("heparin", "5000 units SC q8h"),
    ("enoxaparin", "40 mg SC daily"), ("Lovenox", "1 mg/kg BID"), ("digoxin", "0.125 mg"),
    ("amiodarone", "200 mg daily"), ("diltiazem", "30 mg QID"), ("nitroglycerin", "0.4 mg SL"),
    ("allopurinol", "100 mg"), ("colchicine", "0.6 mg"), ("donepezil", "10 mg"), ("Aricept", "5 mg"),
    ("carbidopa-levodopa", "25/100 TID"), ("Sinemet", "25/250"), ("lithium", "300 mg BID"),
    ("bupropion", "150 mg XL"), ("Wellbutrin", "300 mg"), ("Paxlovid", "as directed"), ("Tamiflu", "75 mg BID"),
    ("nitrofurantoin", "100 mg BID"), ("Bactrim DS", "1 tab BID"), ("doxycycline", "100 mg BID"),
    ("cephalexin", "500 mg QID"), ("fluconazole", "150 mg once"), ("Lipitor", "20 mg"), ("Xanax", "0.25 mg"),
    ("Lyrica", "75 mg BID"), ("tramadol", "50 mg q6h PRN"), ("clonidine", "0.1 mg"), ("insulin lispro", "4 units with meals"),
    ("semaglutide", "1 mg weekly"), ("tirzepatide", "5 mg weekly"), ("Mounjaro", "2.5 mg weekly"),
    ("Dupixent", "300 mg every 2 weeks"), ("epinephrine", "0.3 mg IM"), ("EpiPen", "0.3 mg"),
    ("vitamin D3", "2000 IU daily"), ("ferrous sulfate", "325 mg daily"), ("folic acid", "1 mg"),
]
DRUG_NAMES = sorted({d for d, _ in DRUG_DOSES})
DRUG_CLASSES = [
    "SGLT2 inhibitors", "GLP-1 agonists", "DOACs", "beta blockers", "ACE inhibitors", "ARBs", "statins",
    "loop diuretics", "SSRIs", "SNRIs", "antipsychotics", "benzodiazepines", "fluoroquinolones",
    "cephalosporins", "macrolides", "PPIs", "opioids", "anticonvulsants", "biologics for psoriasis",
    "inhaled corticosteroids", "sulfonylureas", "calcium channel blockers",
]

EPONYMS = [
    "Parkinson's disease", "Bell's palsy", "Wilson's disease", "Hodgkin lymphoma", "non-Hodgkin lymphoma",
    "Crohn's disease", "Crohn's", "Graves' disease", "Cushing syndrome", "Addison's disease", "Down syndrome",
    "Lyme disease", "Alzheimer's disease", "Huntington's disease", "Hashimoto's thyroiditis",
    "Guillain-Barré syndrome", "Sjögren's syndrome", "Ménière's disease", "Raynaud's phenomenon",
    "Kawasaki disease", "Barrett's esophagus", "Meckel's diverticulum", "Hirschsprung disease",
    "Tourette syndrome", "Kaposi sarcoma", "Burkitt lymphoma", "Ewing sarcoma", "Wilms tumor",
    "Epstein-Barr virus", "Osgood-Schlatter disease", "Legg-Calvé-Perthes disease", "Dupuytren contracture",
    "Baker's cyst", "Colles fracture", "Marfan syndrome", "Turner syndrome", "Klinefelter syndrome",
    "Ehlers-Danlos syndrome", "Paget's disease", "Peyronie's disease", "Takotsubo cardiomyopathy",
    "Wolff-Parkinson-White syndrome", "Brugada syndrome", "Stevens-Johnson syndrome", "Reye syndrome",
    "Horner syndrome", "Tietze syndrome", "Dressler syndrome", "Budd-Chiari syndrome", "Zollinger-Ellison syndrome",
    "Mallory-Weiss tear", "Charcot foot", "Still's disease", "Behçet's disease", "Whipple's disease",
    "Creutzfeldt-Jakob disease", "Lou Gehrig's disease", "Asperger syndrome", "Munchausen syndrome",
    "von Willebrand disease", "Tay-Sachs disease", "Gaucher disease", "Fabry disease", "Pompe disease",
]
EXAM_SIGNS = [
    "Babinski sign", "Murphy's sign", "McBurney's point tenderness", "Homans' sign", "Tinel's sign",
    "Phalen's test", "Lachman test", "Romberg sign", "Kernig's sign", "Brudzinski's sign", "Chvostek's sign",
    "Trousseau's sign", "Cullen's sign", "Grey Turner's sign", "Rovsing's sign", "Hoffmann's sign",
    "Finkelstein test", "McMurray test", "Spurling test", "Dix-Hallpike test", "Straight leg raise",
    "Kehr's sign", "Levine's sign", "Durkan's test",
]
EPONYM_SIGNS = EXAM_SIGNS + [
    "Glasgow Coma Scale", "Apgar score", "Trendelenburg gait", "Kussmaul respirations",
    "Cheyne-Stokes respirations", "Virchow's triad", "Beck's triad", "Cushing's triad", "Epley maneuver", "Dix-Hallpike maneuver", "Valsalva maneuver",
    "Heimlich maneuver", "Allen test", "Weber test", "Rinne test", "Snellen chart", "Foley catheter",
    "Swan-Ganz catheter", "Whipple procedure", "Nissen fundoplication", "Roux-en-Y gastric bypass",
    "Hartmann procedure", "Jackson-Pratt drain", "Hickman line", "Tenckhoff catheter", "Wells score",
    "Ranson criteria", "Child-Pugh score", "Duke criteria", "Jones criteria", "Light's criteria",
    "Centor criteria", "Ottawa ankle rules", "Beers criteria", "Braden scale", "Morse fall scale",
    "Mallampati score", "Gleason score", "Breslow depth", "Clark level",
]
DX = [
    "type 2 diabetes", "hypertension", "HFrEF", "heart failure with preserved EF", "COPD exacerbation",
    "community-acquired pneumonia", "atrial fibrillation", "CKD stage 3b", "sepsis", "urinary tract infection",
    "cellulitis of the left leg", "DVT", "pulmonary embolism", "NSTEMI", "acute ischemic stroke", "AKI",
    "DKA", "upper GI bleed", "acute pancreatitis", "alcoholic cirrhosis", "hypothyroidism",
    "major depressive disorder", "generalized anxiety disorder", "osteoarthritis of the right knee",
    "chronic low back pain", "migraine without aura", "moderate persistent asthma", "obstructive sleep apnea",
    "gout flare", "BPH", "iron deficiency anemia", "hyperlipidemia", "class II obesity", "vascular dementia",
    "hospital delirium", "syncope", "recurrent falls", "right hip fracture", "rheumatoid arthritis",
    "psoriasis", "GERD", "diverticulitis", "C. diff colitis", "small bowel obstruction", "appendicitis",
    "cholecystitis", "hyponatremia", "hyperkalemia", "COVID-19 pneumonia", "influenza A", "RSV bronchiolitis",
    "preeclampsia", "gestational diabetes", "postpartum hemorrhage", "bipolar I disorder", "schizophrenia",
    "opioid use disorder", "alcohol withdrawal", "peripheral neuropathy", "peripheral artery disease",
    "aortic stenosis", "mitral regurgitation", "lung adenocarcinoma", "breast cancer", "prostate cancer",
    "colon cancer", "multiple myeloma", "lupus", "psoriatic arthritis", "ulcerative colitis", "MASLD",
    "hepatitis C", "HIV on ART", "latent TB", "shingles", "cellulitis", "pressure injury stage 2",
    "failure to thrive", "osteoporosis", "spinal stenosis", "carpal tunnel syndrome", "plantar fasciitis",
]
DX_ALL = DX + EPONYMS
ICD_QUESTIONS = [
    "type 2 diabetes with CKD stage 3", "type 2 diabetes with hyperglycemia", "essential hypertension",
    "hypertensive heart and chronic kidney disease with heart failure", "acute on chronic systolic heart failure",
    "COPD with acute exacerbation", "sepsis due to E. coli", "UTI, site not specified", "NSTEMI",
    "paroxysmal atrial fibrillation", "major depressive disorder, recurrent, moderate", "morbid obesity with BMI 42",
    "fall from bed, initial encounter", "pressure ulcer of sacrum, stage 3", "Parkinson's disease",
    "Alzheimer's disease with late onset", "Bell's palsy", "Crohn's disease of small intestine without complications",
    "Graves' disease without thyrotoxic crisis", "Hodgkin lymphoma, unspecified", "long-term use of anticoagulants",
    "encounter for screening colonoscopy", "personal history of nicotine dependence", "diabetic foot ulcer",
    "acute kidney injury", "community acquired pneumonia", "Lyme disease", "Down syndrome", "chronic migraine",
    "opioid dependence in remission", "hypokalemia", "vitamin D deficiency", "elevated troponin",
]
CPT_QUESTIONS = [
    "a level 4 established outpatient visit", "a 45-minute new patient visit", "annual wellness visit",
    "transitional care management with high complexity", "chronic care management, first 20 minutes",
    "a joint injection of the knee", "I&D of a simple abscess", "spirometry with bronchodilator",
    "an EKG with interpretation", "a screening colonoscopy", "a telehealth visit", "advance care planning, 30 minutes",
    "a skin biopsy", "cerumen removal", "a flu shot administration",
]
COMPLAINTS = [
    "chest pain", "shortness of breath", "abdominal pain", "nausea and vomiting", "fever and chills",
    "productive cough", "dizziness", "a headache", "lower back pain", "left knee pain", "palpitations",
    "a rash on the arms", "dysuria", "leg swelling", "fatigue", "confusion", "a fall at home",
    "worsening dyspnea on exertion", "diarrhea", "melena", "blurry vision", "sore throat", "ear pain",
    "anxiety", "insomnia", "weight loss", "joint pain", "numbness in the feet", "syncope", "hematuria",
    "wheezing", "a foot ulcer", "hip pain after a fall", "decreased appetite", "generalized weakness",
]
DURATIONS = [
    "3 days", "two days", "1 week", "2 weeks", "several months", "about a month", "48 hours", "6 hours",
    "10 days", "3 weeks", "a few days", "5 days", "4 days", "one year", "2-3 months", "36 hours",
]
PROCEDURES = [
    "MRI of the lumbar spine", "CT abdomen/pelvis with contrast", "screening colonoscopy", "upper endoscopy",
    "total knee arthroplasty", "cardiac catheterization", "echocardiogram", "sleep study", "PET/CT",
    "cataract surgery", "lumbar puncture", "paracentesis", "thoracentesis", "bone marrow biopsy",
    "carotid ultrasound", "stress test", "Holter monitor", "DEXA scan", "mammogram", "physical therapy",
    "bariatric surgery", "hip replacement", "CPAP titration", "PICC line placement", "TAVR",
]
INFECTIONS = [
    "Lyme disease", "valley fever", "West Nile virus", "tuberculosis", "measles", "pertussis", "influenza",
    "COVID-19", "hepatitis A", "salmonella", "Legionella", "histoplasmosis", "Rocky Mountain spotted fever",
]
SPECIALTIES = [
    "cardiology", "nephrology", "endocrinology", "GI", "pulmonology", "neurology", "oncology", "rheumatology",
    "orthopedics", "dermatology", "psychiatry", "palliative care", "infectious disease", "urology", "ENT",
    "ophthalmology", "geriatrics", "hematology", "physical therapy", "wound care", "podiatry",
]
JOBS = [
    "retired teacher", "truck driver", "nurse", "accountant", "construction worker", "software engineer",
    "farmer", "retired machinist", "student", "cashier", "electrician", "retired postal worker", "chef",
    "home health aide", "veteran", "warehouse worker", "hair stylist", "retired pastor", "bus driver",
]
PAYERS = [
    "Medicare", "Medicaid", "Blue Cross Blue Shield", "Aetna", "Cigna", "UnitedHealthcare", "Humana",
    "Tricare", "Anthem", "Molina", "Oscar Health", "Medicare Advantage", "Ambetter", "WellCare",
]
STATES = [
    "Alabama", "Alaska", "Arizona", "Arkansas", "California", "Colorado", "Connecticut", "Delaware", "Florida",
    "Georgia", "Hawaii", "Idaho", "Illinois", "Indiana", "Iowa", "Kansas", "Kentucky", "Louisiana", "Maine",
    "Maryland", "Massachusetts", "Michigan", "Minnesota", "Mississippi", "Missouri", "Montana", "Nebraska",
    "Nevada", "New Hampshire", "New Jersey", "New Mexico", "North Carolina", "North Dakota", "Ohio",
    "Oklahoma", "Oregon", "Pennsylvania", "Rhode Island", "South Carolina", "South Dakota", "Tennessee",
    "Texas", "Utah", "Vermont", "Virginia", "West Virginia", "Wisconsin", "Wyoming",
]
STATE_ABBR = [
    "AL", "AK", "AZ", "AR", "CA", "CO", "CT", "DE", "FL", "GA", "HI", "ID", "IL", "IN", "IA", "KS", "KY",
    "LA", "ME", "MD", "MA", "MI", "MN", "MS", "MO", "MT", "NE", "NV", "NH", "NJ", "NM", "NY", "NC", "ND",
    "OH", "OK", "OR", "PA", "RI", "SC", "SD", "TN", "TX", "UT", "VT", "VA", "WA", "WV", "WI", "WY",
]
COUNTRIES = [
    "Mexico", "Canada", "India", "China", "Vietnam", "the Philippines", "Brazil", "Guatemala", "Honduras",
    "Nigeria", "Ethiopia", "Somalia", "Haiti", "Poland", "Germany", "France", "Italy", "Japan", "South Korea",
    "Ukraine", "Peru", "Colombia", "the Dominican Republic", "El Salvador", "Kenya", "Ghana", "Thailand",
    "Egypt", "Pakistan", "Bangladesh", "Cuba", "Venezuela", "Ireland", "the United Kingdom", "Spain",
]
GENERIC_FACILITIES = [
    "the ED", "the ER", "the emergency department", "the clinic", "our clinic", "our hospital", "the hospital",
    "an outside hospital", "the OSH", "urgent care", "the ICU", "the MICU", "the cath lab", "the OR", "PACU",
    "the floor", "a skilled nursing facility", "the SNF", "inpatient rehab", "the nursing home", "home health",
    "the pharmacy", "the lab", "radiology", "the infusion center", "dialysis", "hospice", "primary care",
    "the PCP's office", "a long-term care facility", "the step-down unit", "labor and delivery", "the NICU",
]
SEX_WORDS = {"M": ["male", "man", "gentleman", "M"], "F": ["female", "woman", "lady", "F"]}
PRONOUNS = {
    "M": {"he": "he", "his": "his", "him": "him"},
    "F": {"he": "she", "his": "her", "him": "her"},
}
RELATIONS = {"M": ["husband", "son", "brother", "father", "nephew", "partner"],
             "F": ["wife", "daughter", "sister", "mother", "niece", "partner"]}
SCORES = [
    "GCS 15", "GCS 14 (E4V4M6)", "Glasgow Coma Scale 13", "Apgar 8 and 9", "NIHSS 4", "CHA2DS2-VASc 3",
    "HAS-BLED 2", "Wells score 4.5", "PHQ-9 of 14", "GAD-7 of 9", "MMSE 24/30", "MoCA 22/30", "Braden 14",
    "Morse fall score 45", "CURB-65 of 2", "HEART score 3", "Child-Pugh class B", "MELD 18", "NYHA class III",
    "ECOG 1", "Gleason 3+4=7", "strength 5/5 throughout", "4/5 strength in the left hip flexor",
    "2+ pitting edema", "reflexes 2+ and symmetric", "visual acuity 20/40 OD", "pain 7/10", "pain 3/10",
    "Mallampati class II", "ASA class 3", "qSOFA 2", "APACHE II 17", "Ranson 3", "Bishop score 7",
]
MURMURS = ["2/6 systolic", "3/6 holosystolic", "1/6 soft systolic", "4/6 harsh crescendo-decrescendo", "2/4 diastolic"]
COMMON_WORD_FIRST = {
    "M": ["Will", "Mark", "Bill", "Grant", "Art", "Guy", "Hunter", "Rusty", "Chase", "Cash", "Frank", "Sonny",
          "Rich", "Buck", "Miles", "Drew", "Chip", "Cliff", "Dale", "Glen", "Wade", "Lance", "Forest"],
    "F": ["Hope", "Rose", "Faith", "June", "Joy", "Dawn", "Summer", "Autumn", "Crystal", "Amber", "Destiny",
          "Grace", "Iris", "Ivy", "Pearl", "Ruby", "Violet", "Sandy", "Patience", "Charity", "Honey", "Star",
          "April", "May", "Holly", "Heather", "Brook"],
}
COMMON_WORD_LAST = [
    "Green", "Walker", "Long", "Hall", "White", "Brown", "Young", "King", "Black", "Stone", "Wood", "Little",
    "Rich", "Price", "Bell", "Cook", "Baker", "Hill", "Love", "Strong", "Sharp", "Moody", "Frank", "Sweet",
    "Golden", "Bush", "Lamb", "Fox", "Wolf", "Hunt", "Field", "Lane", "Parkinson", "Graves", "Wilson",
    "Addison", "Hodgkin", "Cushing", "Crohn", "Down", "Lyme", "Still", "Bland", "Gray", "Short", "Best",
    "Hardy", "Wise", "Blessing", "Temple", "Church", "Banks", "Rivers", "Booker", "Mercy", "Major", "Story",
]
ARABIC_NAMES = {
    "M": ["Mohammed", "Ahmed", "Omar", "Yusuf", "Khalid", "Hassan", "Tariq", "Karim", "Ibrahim", "Samir"],
    "F": ["Fatima", "Aisha", "Layla", "Mariam", "Noor", "Yasmin", "Huda", "Rania", "Salma", "Zainab"],
    "L": ["Al-Hassan", "Abdullah", "Haddad", "Khoury", "Mansour", "El-Sayed", "Nasser", "Saleh", "Qureshi", "Farouk"],
}
KOREAN_NAMES = {
    "M": ["Min-jun", "Ji-ho", "Seo-jun", "Dong-hyun", "Jae-won", "Sung-min", "Hyun-woo"],
    "F": ["Ji-woo", "Seo-yeon", "Min-seo", "Ha-eun", "Soo-jin", "Eun-ji", "Yuna"],
    "L": ["Kim", "Lee", "Park", "Choi", "Jung", "Kang", "Cho", "Yoon", "Jang", "Lim", "Han", "Oh"],
}
EXTRA_LAST = ["O'Brien", "O'Neill", "McDonald", "MacLeod", "García-López", "de la Cruz", "van der Berg",
              "St. Clair", "D'Angelo", "Ben-David", "Nguyen", "Tran", "Smith-Jones", "Van Buren", "DeLuca"]

# Faker locales used for names, with weights (romanized ones marked).
NAME_LOCALES = [
    ("en_US", 50), ("es_MX", 10), ("en_IN", 6), ("vi_VN", 3), ("zh_CN:rom", 4), ("ja_JP:rom", 2),
    ("fr_FR", 3), ("de_DE", 3), ("pl_PL", 3), ("pt_BR", 2), ("it_IT", 2), ("yo_NG", 2), ("nl_NL", 2),
    ("en_IE", 2), ("ga_IE", 1), ("tr_TR", 1), ("sw", 1),
]
REAL_CITIES = [
    "Springfield", "Dayton", "Fresno", "Boise", "Tulsa", "Duluth", "Akron", "Toledo", "Modesto", "Tacoma",
    "Spokane", "Macon", "Savannah", "Mobile", "Reading", "Florence", "Jackson", "Aurora", "Eugene", "Tyler",
    "Marion", "Warren", "Troy", "Orange", "Independence", "Lafayette", "Columbia", "Bismarck", "Billings",
    "Provo", "Ogden", "Pueblo", "El Paso", "San Antonio", "Chula Vista", "Yonkers", "Scranton", "Allentown",
    "Hialeah", "Gainesville", "Chattanooga", "Knoxville", "Lubbock", "Amarillo", "Laredo", "Waco", "Flint",
    "Lansing", "Kalamazoo", "Peoria", "Rockford", "Joliet", "Cedar Rapids", "Sioux Falls", "Fargo",
    "Anchorage", "Honolulu", "Albuquerque", "Santa Fe", "Las Cruces", "Tucson", "Mesa", "Reno", "Salem",
    "Bend", "Olympia", "Everett", "Bellingham", "Missoula", "Cheyenne", "Burlington", "Portland",
    "Manchester", "Hartford", "New Haven", "Charleston", "Asheville", "Durham", "Greensboro", "Norfolk",
    "Richmond", "Roanoke", "Lexington", "Louisville", "Bowling Green", "Evansville", "Fort Wayne", "Gary",
    "Green Bay", "Madison", "Rochester", "Cleveland", "Cincinnati", "Columbus", "Detroit", "Chicago",
    "Houston", "Dallas", "Phoenix", "Denver", "Seattle", "Atlanta", "Miami", "Boston", "Baltimore",
    "Pittsburgh", "Memphis", "Nashville", "Omaha", "Wichita", "Des Moines", "Little Rock", "Shreveport",
    "Baton Rouge", "Biloxi", "Birmingham", "Huntsville", "Tampa", "Orlando", "Jacksonville", "St. Paul",
    "St. Louis", "Fort Worth", "Corpus Christi", "Sacramento", "San Jose", "Oakland", "Bakersfield",
]
COUNTY_NAMES = [
    "Cook", "Harris", "Maricopa", "King", "Wayne", "Cuyahoga", "Orange", "Fulton", "Travis", "Hennepin",
    "Multnomah", "Polk", "Franklin", "Jefferson", "Washington", "Lake", "Marion", "Montgomery", "Dane",
    "Bexar", "Tarrant", "Allegheny", "Hamilton", "Jackson", "Clark", "Shelby", "Pima", "Sacramento",
    "Kern", "Fresno", "Summit", "Douglas", "Madison", "Greene", "Butler", "Monroe", "Lancaster", "Salt Lake",
]
STREET_BASES = [
    "Main", "Oak", "Maple", "Elm", "Pine", "Cedar", "Washington", "Lincoln", "Park", "Lake", "Hill",
    "Church", "Market", "Mill", "Spring", "Highland", "Sunset", "Ridge", "River", "Walnut", "Chestnut",
    "Martin Luther King Jr.", "Cesar Chavez", "Broad", "Grand", "Union", "Jefferson", "Franklin",
    "Madison", "Adams", "Jackson", "Forest", "Meadow", "Valley", "Prospect", "Orchard", "Willow", "Birch",
    "1st", "2nd", "3rd", "4th", "5th", "12th", "23rd", "42nd", "Old Mill", "County Road 12", "Rolling Hills",
]
STREET_SUFFIXES = [
    "St", "St.", "Street", "Ave", "Ave.", "Avenue", "Rd", "Road", "Blvd", "Boulevard", "Dr", "Drive", "Ln",
    "Lane", "Ct", "Court", "Way", "Pl", "Place", "Ter", "Terrace", "Cir", "Circle", "Pkwy", "Hwy", "Trail",
]
FAC_PLACES = [
    "Riverside", "Lakeview", "Hillcrest", "Oakwood", "Cedar Ridge", "Pine Valley", "Northside", "Summit",
    "Harbor View", "Fairview", "Meadowbrook", "Willow Creek", "Bayfront", "Sunrise", "Valley View",
    "Westside", "Eastgate", "Prairie", "Mountain View", "Brookside", "Stonebridge", "Clearwater",
    "Silver Lake", "Maple Grove", "Highland Park", "Greenfield", "Kingsbridge", "Red Oak", "Three Rivers",
    "Desert Springs", "Blue Ridge", "Coastal", "Heartland", "Lakeshore", "Crestview", "Bayside",
    "Golden Valley", "Evergreen", "Pinecrest", "Sandy Hollow",
]
FAC_SAINTS = [
    "St. Mary's", "St. Luke's", "St. Joseph's", "Saint Francis", "St. Vincent's", "St. Elizabeth's",
    "Saint Anne's", "Sacred Heart", "Holy Cross", "Good Samaritan", "Mercy", "Providence", "Baptist",
    "Methodist", "Presbyterian", "Lutheran", "Trinity", "Our Lady of Lourdes", "St. John's", "Saint Agnes",
]
FAC_HOSP_SUFFIX = [
    "Hospital", "Medical Center", "Regional Medical Center", "Community Hospital", "General Hospital",
    "Memorial Hospital", "Health System", "Children's Hospital", "Rehabilitation Hospital",
    "Behavioral Health Center", "Cancer Center", "Surgery Center", "Regional Hospital", "Heart Institute",
]
FAC_PRACT_SUFFIX = [
    "Family Practice", "Family Medicine", "Internal Medicine Associates", "Pediatrics", "Primary Care",
    "Urgent Care", "Health Center", "Clinic", "Cardiology Associates", "Orthopedics", "Dermatology",
    "Women's Health", "OB/GYN", "Eye Center", "Dialysis Center", "Imaging", "Sleep Center", "Pain Management",
    "Physical Therapy", "Nursing and Rehabilitation Center", "Senior Living", "Hospice", "Endocrinology",
    "Kidney Care", "Pulmonary Associates", "Gastroenterology", "Oncology Associates",
]
FAMOUS_FACILITIES = [
    "Mayo Clinic", "Cleveland Clinic", "Johns Hopkins Hospital", "Massachusetts General Hospital",
    "Cedars-Sinai Medical Center", "Mount Sinai Hospital", "Brigham and Women's Hospital", "Stanford Health Care",
    "UCSF Medical Center", "Duke University Hospital", "Vanderbilt University Medical Center",
    "MD Anderson Cancer Center", "Parkland Memorial Hospital", "Grady Memorial Hospital", "Bellevue Hospital",
    "Northwestern Memorial Hospital", "Barnes-Jewish Hospital", "Intermountain Medical Center",
    "Hospital for Special Surgery", "Boston Children's Hospital", "Children's Hospital of Philadelphia",
    "University of Iowa Hospitals", "Ochsner Medical Center", "Henry Ford Hospital", "Emory University Hospital",
]
EMAIL_DOMAINS_EXTRA = ["outlook.com", "icloud.com", "aol.com", "comcast.net", "protonmail.com", "att.net", "live.com"]
WEEKDAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September",
          "October", "November", "December"]
MON_ABBR = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

# --------------------------------------------------------------------------------------------------
# Numbers in words (dictation)
# --------------------------------------------------------------------------------------------------

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
        "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"]
TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
ORD_ONES = ["zeroth", "first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth",
            "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth",
            "seventeenth", "eighteenth", "nineteenth"]
ORD_TENS = {20: "twentieth", 30: "thirtieth"}


def words(n):
    """Cardinal number 0-999 in words ("one twenty eight" style is built by callers)."""
    if n < 20:
        return ONES[n]
    if n < 100:
        t, o = divmod(n, 10)
        return TENS[t] + ("" if o == 0 else " " + ONES[o])
    h, rest = divmod(n, 100)
    return ONES[h] + " hundred" + ("" if rest == 0 else " " + words(rest))


def ordinal_words(n):
    if n < 20:
        return ORD_ONES[n]
    if n % 10 == 0:
        return ORD_TENS[n]
    return TENS[n // 10] + " " + ORD_ONES[n % 10]


def year_words(y, r):
    if 2000 <= y < 2010:
        return "two thousand" + ("" if y == 2000 else " " + ONES[y - 2000])
    if y >= 2010 and r.random() < 0.4:
        return "two thousand " + words(y - 2000)
    hi, lo = divmod(y, 100)
    if lo == 0:
        return words(hi) + " hundred"
    if lo < 10:
        return words(hi) + " oh " + ONES[lo]
    return words(hi) + " " + words(lo)


def digit_words(s, r):
    zero = "oh" if r.random() < 0.3 else "zero"
    return " ".join(zero if c == "0" else ONES[int(c)] for c in s if c.isdigit())


def spoken_number(n, r):
    """Numbers the way they are dictated: 128 -> 'one twenty eight' or 'one hundred twenty eight'."""
    if 100 < n < 1000 and n % 100 != 0 and r.random() < 0.6:
        h, rest = divmod(n, 100)
        return ONES[h] + " " + (words(rest) if rest >= 10 else "oh " + ONES[rest])
    return words(n)


# --------------------------------------------------------------------------------------------------
# Identifier generators with valid check digits / structure
# --------------------------------------------------------------------------------------------------

def luhn_check_digit(digits):
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def gen_npi(r):
    base = r.choice("12") + "".join(r.choice("0123456789") for _ in range(8))
    return base + luhn_check_digit("80840" + base)


def gen_dea(r, last_name):
    first = r.choice("ABFGMPRX")
    initial = next((c.upper() for c in strip_accents(last_name) if c.isalpha()), "9")
    d = [r.randint(0, 9) for _ in range(6)]
    check = ((d[0] + d[2] + d[4]) + 2 * (d[1] + d[3] + d[5])) % 10
    return first + initial + "".join(map(str, d)) + str(check)


VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
VIN_VALUES = dict(zip("ABCDEFGH", range(1, 9)))
VIN_VALUES.update(dict(zip("JKLMN", range(1, 6))))
VIN_VALUES.update({"P": 7, "R": 9})
VIN_VALUES.update(dict(zip("STUVWXYZ", range(2, 10))))
VIN_VALUES.update({str(i): i for i in range(10)})
VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
VIN_WMI = ["1HG", "1FT", "2T1", "JHM", "5YJ", "WBA", "3VW", "1G1", "KMH", "JTD", "1C4", "4T1", "5FN", "WDD", "YV1"]
VIN_YEAR = "ABCDEFGHJKLMNPRSTVWXY123456789"


def gen_vin(r):
    chars = list(r.choice(VIN_WMI))
    chars += [r.choice(VIN_CHARS) for _ in range(5)]
    chars.append("0")  # check digit placeholder
    chars.append(r.choice(VIN_YEAR))
    chars.append(r.choice(VIN_CHARS))
    chars += [r.choice("0123456789") for _ in range(6)]
    total = sum(VIN_VALUES[c] * w for c, w in zip(chars, VIN_WEIGHTS))
    rem = total % 11
    chars[8] = "X" if rem == 10 else str(rem)
    return "".join(chars)


def gen_ssn(r):
    area = r.randint(1, 899)
    while area == 666:
        area = r.randint(1, 899)
    group, serial = r.randint(1, 99), r.randint(1, 9999)
    a, g, s = "%03d" % area, "%02d" % group, "%04d" % serial
    x = r.random()
    if x < 0.75:
        return f"{a}-{g}-{s}"
    if x < 0.87:
        return f"{a} {g} {s}"
    return a + g + s


MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"


def gen_mbi(r):
    L = lambda: r.choice(MBI_LETTERS)
    D = lambda: r.choice("0123456789")
    A = lambda: r.choice(MBI_LETTERS + "0123456789")
    s = r.choice("123456789") + L() + A() + D() + L() + A() + D() + L() + L() + D() + D()
    return f"{s[:4]}-{s[4:7]}-{s[7:]}" if r.random() < 0.4 else s


def imei_check(body14):
    total = 0
    for i, c in enumerate(body14):
        d = int(c)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def strip_accents(s):
    s = s.replace("ł", "l").replace("Ł", "L").replace("đ", "d").replace("Đ", "D").replace("ß", "ss")
    s = s.replace("ø", "o").replace("æ", "ae").replace("ı", "i")
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def slug(s):
    return re.sub(r"[^a-z0-9]", "", strip_accents(s).lower())


# --------------------------------------------------------------------------------------------------
# Pools built from Faker (seeded), sampled per document with random.Random
# --------------------------------------------------------------------------------------------------

class Person:
    __slots__ = ("first", "middle", "last", "sex")

    def __init__(self, first, middle, last, sex):
        self.first, self.middle, self.last, self.sex = first, middle, last, sex


class Pools:
    def __init__(self, seed):
        self.names = {}  # locale -> {"M": [...], "F": [...], "L": [...]}
        for i, (loc, _) in enumerate(NAME_LOCALES):
            base = loc.split(":")[0]
            f = Faker(base)
            f.seed_instance(seed * 1009 + i)
            pool = {"M": [], "F": [], "L": []}
            if loc.endswith(":rom"):
                for _ in range(120):
                    pool["M"].append(f.first_romanized_name())
                    pool["L"].append(f.last_romanized_name())
                pool["F"] = pool["M"]
            elif base == "vi_VN":  # name() would add honorifics (Bà, Ông); use the parts
                for _ in range(120):
                    pool["M"].append(f.first_name_male())
                    pool["F"].append(f.first_name_female())
                    pool["L"].append(f.last_name())
            else:
                for _ in range(150):
                    pool["M"].append(f.first_name_male())
                    pool["F"].append(f.first_name_female())
                    pool["L"].append(f.last_name())
            for k in pool:
                pool[k] = sorted(set(pool[k]))
            self.names[loc] = pool
        self.locales = [loc for loc, _ in NAME_LOCALES]
        self.loc_weights = [w for _, w in NAME_LOCALES]
        f = Faker("en_US")
        f.seed_instance(seed * 1009 + 999)
        not_city = set(STATES) | {c.replace("the ", "") for c in COUNTRIES}  # e.g. Faker's "Mary"+"land"
        self.fake_cities = sorted({f.city() for _ in range(200)} - not_city)
        self.fake_streets = sorted({f.street_name() for _ in range(200)})
        self.email_domains = sorted({f.free_email_domain() for _ in range(50)} | set(EMAIL_DOMAINS_EXTRA))
        self.ipv4_public = [f.ipv4_public() for _ in range(300)]
        self.ipv6 = [f.ipv6() for _ in range(200)]
        self.words = sorted({f.word() for _ in range(300)})

    def person(self, r, sex=None):
        sex = sex or r.choice("MF")
        x = r.random()
        if x < 0.07:
            first = r.choice(COMMON_WORD_FIRST[sex])
            last = r.choice(COMMON_WORD_LAST)
        elif x < 0.09:
            first, last = r.choice(ARABIC_NAMES[sex]), r.choice(ARABIC_NAMES["L"])
        elif x < 0.11:
            first, last = r.choice(KOREAN_NAMES[sex]), r.choice(KOREAN_NAMES["L"])
        else:
            loc = r.choices(self.locales, self.loc_weights)[0]
            pool = self.names[loc]
            first = r.choice(pool[sex])
            last = r.choice(pool["L"])
            if r.random() < 0.06:
                last = r.choice(COMMON_WORD_LAST + EXTRA_LAST)
        middle = ""
        if r.random() < 0.35:
            middle = r.choice(self.names["en_US"]["M" if r.random() < 0.5 else "F"])
        return Person(first, middle, last, sex)


# --------------------------------------------------------------------------------------------------
# Document context: per-document entities and slot renderers
# --------------------------------------------------------------------------------------------------

class PHIInNegative(Exception):
    pass


SLOT_RE = re.compile(r"\{(\w+)\}")
_TEMPLATE_CACHE = {}


def parse_template(tpl):
    parsed = _TEMPLATE_CACHE.get(tpl)
    if parsed is None:
        parsed, pos = [], 0
        for m in SLOT_RE.finditer(tpl):
            if m.start() > pos:
                parsed.append((tpl[pos:m.start()], None))
            parsed.append((None, m.group(1)))
            pos = m.end()
        if pos < len(tpl):
            parsed.append((tpl[pos:], None))
        _TEMPLATE_CACHE[tpl] = parsed
    return parsed


def T(s):
    return (s, None)


def cap_pieces(pieces):
    if not pieces:
        return pieces
    s, lab = pieces[0]
    return [(s[:1].upper() + s[1:], lab)] + list(pieces[1:])


def upper_pieces(pieces):
    return [(s.upper(), lab) for s, lab in pieces]


class Ctx:
    """One document's entities. Slot methods return lists of (text, label-or-None) pieces."""

    def __init__(self, r, pools, neg):
        self.r, self.P, self.neg = r, pools, neg
        self._c = {}
        self.pt = pools.person(r)
        self.sex = self.pt.sex
        x = r.random()
        if neg:
            self.age = r.choice([r.randint(18, 89), r.randint(40, 89), r.randint(1, 17)])
        elif x < 0.17:
            self.age = r.randint(90, 104)
        elif x < 0.25:
            self.age = r.randint(1, 17)
        else:
            self.age = r.randint(18, 89)
        self.visit = dt.date(2016, 1, 1) + dt.timedelta(days=r.randint(0, 3650))
        self.dob = self.visit - dt.timedelta(days=int(self.age * 365.25) + r.randint(1, 360))

    # ---- helpers ----
    def once(self, key, fn):
        v = self._c.get(key)
        if v is None:
            v = self._c[key] = fn()
        return v

    def phi(self, text, label):
        if self.neg:
            raise PHIInNegative(label)
        return [(text, label)]

    def fill(self, tpl):
        out = []
        for lit, slot in parse_template(tpl):
            if lit is not None:
                out.append((lit, None))
            else:
                out.extend(self.slot(slot))
        return out

    def slot(self, name):
        fn = getattr(self, "s_" + name, None)
        if fn is not None:
            return fn()
        low = getattr(self, "s_" + name[0].lower() + name[1:], None)
        if low is None:
            raise KeyError("unknown slot {%s}" % name)
        return cap_pieces(low())

    def pick(self, *weighted):
        """pick(("a", 3), ("b", 1)) -> weighted choice."""
        vals = [v for v, _ in weighted]
        return self.r.choices(vals, [w for _, w in weighted])[0]

    # ---- names ----
    def name_str(self, p, style):
        mi = (p.middle[:1] + ".") if p.middle else ""
        if style == "fl":
            return f"{p.first} {p.last}"
        if style == "fml":
            if not p.middle:
                return f"{p.first} {p.last}"
            return f"{p.first} {mi} {p.last}" if self.r.random() < 0.75 else f"{p.first} {p.middle} {p.last}"
        if style == "lf":
            return f"{p.last}, {p.first}"
        if style == "lfm":
            return f"{p.last}, {p.first} {mi}" if mi else f"{p.last}, {p.first}"
        if style == "LF":
            return f"{p.last}, {p.first}".upper()
        if style == "il":
            return f"{p.first[:1]}. {p.last}"
        if style == "f":
            return p.first
        if style == "l":
            return p.last
        raise ValueError(style)

    def title(self, p):
        if p.sex == "M":
            return self.pick(("Mr. ", 8), ("Mr ", 2))
        return self.pick(("Ms. ", 6), ("Mrs. ", 3), ("Ms ", 1), ("Miss ", 1))

    def s_pt(self):
        st = self.pick(("fl", 55), ("fml", 17), ("lf", 10), ("lfm", 4), ("il", 3), ("LF", 2))
        return self.phi(self.name_str(self.pt, st), "NAME")

    def s_ptn(self):
        return self.phi(self.name_str(self.pt, self.pick(("fl", 80), ("fml", 20))), "NAME")

    def s_ptlf(self):
        return self.phi(self.name_str(self.pt, self.pick(("lf", 60), ("lfm", 25), ("LF", 15))), "NAME")

    def s_ptf(self):
        return self.phi(self.pt.first, "NAME")

    def s_ptl(self):
        return [T(self.title(self.pt))] + self.phi(self.pt.last, "NAME")

    def s_ref(self):
        """Reference to the patient: a name in positive documents (mostly), neutral words otherwise."""
        if not self.neg and self.r.random() < 0.6:
            return self.pick((self.s_ptl, 5), (self.s_ptf, 2), (self.s_ptn, 2))()
        return [T(self.r.choice(["the patient", "the patient", "pt", "patient", PRONOUNS[self.sex]["he"]]))]

    def s_ptlast(self):
        return self.phi(self.pt.last, "NAME")

    def s_drlast(self):
        return self.phi(self.provider("dr").last, "NAME")

    def s_doc2last(self):
        return self.phi(self.provider("doc2").last, "NAME")

    def provider(self, key):
        return self.once(key, lambda: self.P.person(self.r))

    def s_dr(self):
        p = self.provider("dr")
        st = self.pick(("fl", 5), ("l", 5), ("fml", 1))
        t = self.pick(("Dr. ", 8), ("Dr ", 2), ("Doctor ", 1))
        return [T(t)] + self.phi(self.name_str(p, st), "NAME")

    def s_drl(self):
        p = self.provider("dr")
        return [T(self.pick(("Dr. ", 8), ("Dr ", 2)))] + self.phi(p.last, "NAME")

    def s_drfull(self):
        p = self.provider("dr")
        if self.r.random() < 0.5:
            return [T("Dr. ")] + self.phi(self.name_str(p, self.pick(("fl", 4), ("fml", 1))), "NAME")
        cred = self.r.choice([", MD", ", MD", " MD", ", DO", ", NP", ", PA-C", ", MD, FACP", ", MD, PhD"])
        return self.phi(self.name_str(p, self.pick(("fl", 6), ("fml", 2), ("il", 1))), "NAME") + [T(cred)]

    def s_drsig(self):
        p = self.provider("dr")
        cred = self.r.choice([", MD", ", MD", ", DO", " MD", ", NP", ", MD, FACC"])
        return self.phi(self.name_str(p, self.pick(("fl", 6), ("fml", 3), ("lfm", 1))), "NAME") + [T(cred)]

    def s_doc2(self):
        p = self.provider("doc2")
        st = self.pick(("fl", 4), ("l", 6))
        return [T(self.pick(("Dr. ", 9), ("Dr ", 1)))] + self.phi(self.name_str(p, st), "NAME")

    def s_nurse(self):
        p = self.provider("nurse")
        cred = self.r.choice([", RN", " RN", ", RN, BSN", ", LPN", ", MA", ", CMA", ", LCSW", ", PharmD"])
        return self.phi(self.name_str(p, self.pick(("fl", 8), ("f", 2))), "NAME") + [T(cred)]

    def s_staff(self):
        p = self.provider("staff")
        return self.phi(self.name_str(p, self.pick(("fl", 5), ("f", 5))), "NAME")

    def fam(self):
        def mk():
            rel_sex = self.r.choice("MF")
            rel = self.r.choice(RELATIONS[rel_sex])
            p = self.P.person(self.r, rel_sex)
            if rel in ("son", "daughter", "brother", "sister", "father", "mother") and self.r.random() < 0.6:
                p.last = self.pt.last
            return rel, p
        return self.once("fam", mk)

    def s_rel(self):
        return [T(self.fam()[0])]

    def s_fam(self):
        rel, p = self.fam()
        his = PRONOUNS[self.sex]["his"]
        return [T(f"{his} {rel} ")] + self.phi(self.name_str(p, self.pick(("f", 5), ("fl", 5))), "NAME")

    def s_famn(self):
        rel, p = self.fam()
        return self.phi(self.name_str(p, self.pick(("f", 5), ("fl", 5))), "NAME")

    def s_other(self):
        p = self.once("other", lambda: self.P.person(self.r))
        return self.phi(self.name_str(p, self.pick(("fl", 7), ("f", 3))), "NAME")

    # ---- dates ----
    def fmt_date(self, d, full_only=False):
        r = self.r
        m, dd, y = d.month, d.day, d.year
        styles = [("mdy0", 18), ("mdy", 12), ("mdyy", 7), ("mdy-", 6), ("mdy.", 3), ("iso", 8), ("Mdy", 10),
                  ("Mdthy", 5), ("Mbdy", 6), ("Mb.dy", 2), ("dMy", 4), ("dby", 4), ("dd-b-y", 3),
                  ("thofM", 2), ("wMdy", 2), ("compact", 1)]
        if not full_only:
            styles += [("Md", 3), ("Mdth", 2), ("wmd", 1)]
        st = r.choices([s for s, _ in styles], [w for _, w in styles])[0]
        sfx = ordinal_suffix(dd)
        if st == "mdy0":
            return f"{m:02d}/{dd:02d}/{y}"
        if st == "mdy":
            return f"{m}/{dd}/{y}"
        if st == "mdyy":
            return f"{m}/{dd}/{y % 100:02d}"
        if st == "mdy-":
            return f"{m:02d}-{dd:02d}-{y}"
        if st == "mdy.":
            return f"{m:02d}.{dd:02d}.{y}"
        if st == "iso":
            return d.isoformat()
        if st == "Mdy":
            return f"{MONTHS[m - 1]} {dd}, {y}"
        if st == "Mdthy":
            return f"{MONTHS[m - 1]} {dd}{sfx}, {y}"
        if st == "Mbdy":
            return f"{MON_ABBR[m - 1]} {dd}, {y}"
        if st == "Mb.dy":
            ab = MON_ABBR[m - 1]
            return f"{ab}{'' if ab == 'May' else '.'} {dd}, {y}"
        if st == "dMy":
            return f"{dd} {MONTHS[m - 1]} {y}"
        if st == "dby":
            return f"{dd} {MON_ABBR[m - 1]} {y}"
        if st == "dd-b-y":
            s = f"{dd:02d}-{MON_ABBR[m - 1]}-{y}"
            return s.upper() if r.random() < 0.5 else s
        if st == "thofM":
            return f"the {dd}{sfx} of {MONTHS[m - 1]}, {y}" if r.random() < 0.5 else f"the {dd}{sfx} of {MONTHS[m - 1]} {y}"
        if st == "wMdy":
            return f"{WEEKDAYS[d.weekday()]}, {MONTHS[m - 1]} {dd}, {y}"
        if st == "compact":
            return f"{y}{m:02d}{dd:02d}"
        if st == "Md":
            return f"{MONTHS[m - 1]} {dd}"
        if st == "Mdth":
            return f"{MON_ABBR[m - 1]} {dd}{sfx}"
        if st == "wmd":
            return f"{WEEKDAYS[d.weekday()][:3]} {m}/{dd}"
        raise ValueError(st)

    def partial_date(self, d):
        r, m, dd, y = self.r, d.month, d.day, d.year
        st = r.choice(["md", "md", "by", "My", "my", "Mdth", "thofM", "Mofy", "md0"])
        if st == "md":
            return f"{m}/{dd}"
        if st == "md0":
            return f"{m:02d}/{dd:02d}"
        if st == "by":
            return f"{MON_ABBR[m - 1]} {y}"
        if st == "My":
            return f"{MONTHS[m - 1]} {y}"
        if st == "my":
            return f"{m:02d}/{y}" if r.random() < 0.6 else f"{m}/{y}"
        if st == "Mdth":
            return f"{MONTHS[m - 1]} {dd}{ordinal_suffix(dd)}"
        if st == "thofM":
            return f"the {dd}{ordinal_suffix(dd)} of {MONTHS[m - 1]}"
        return f"{MONTHS[m - 1]} of {y}"

    def near(self, lo, hi):
        return self.visit + dt.timedelta(days=self.r.randint(lo, hi))

    def s_dob(self):
        return self.phi(self.fmt_date(self.dob, full_only=True), "DATE")

    def s_vdate(self):
        return self.phi(self.once("vdate_s", lambda: self.fmt_date(self.visit, full_only=True)), "DATE")

    def s_date(self):
        return self.phi(self.fmt_date(self.near(-400, 0)), "DATE")

    def s_fdate(self):
        return self.phi(self.fmt_date(self.near(1, 90)), "DATE")

    def s_adate(self):
        return self.phi(self.once("adate", lambda: self.fmt_date(self.visit, full_only=True)), "DATE")

    def s_ddate(self):
        return self.phi(self.once("ddate", lambda: self.fmt_date(self.near(2, 12), full_only=True)), "DATE")

    def s_pdate(self):
        return self.phi(self.partial_date(self.near(-700, -3)), "DATE")

    def s_rdate(self):
        r = self.r
        wd = r.choice(WEEKDAYS)
        x = r.random()
        if x < 0.3:
            return self.phi("yesterday", "DATE")
        if x < 0.5:
            return self.phi("last " + wd, "DATE")
        if x < 0.62:
            return self.phi("this " + wd, "DATE")
        if x < 0.7:
            return self.phi("this past " + wd, "DATE")
        if x < 0.78:
            return self.phi("the day before yesterday", "DATE")
        if x < 0.9:
            return [T("on ")] + self.phi(wd, "DATE")
        return self.phi(wd, "DATE") + [T(r.choice([" morning", " night", " afternoon", " evening"]))]

    def s_ndate(self):
        """A future relative date."""
        wd = self.r.choice(WEEKDAYS)
        x = self.r.random()
        if x < 0.5:
            return self.phi("next " + wd, "DATE")
        if x < 0.8:
            return [T("on ")] + self.phi(wd, "DATE")
        return self.phi("this " + wd, "DATE")

    # ---- age ----
    def s_age(self):
        """Adjectival age: '67-year-old' (no span) / '92-year-old' (AGE)."""
        r, a = self.r, self.age
        if a < 2 and r.random() < 0.7:
            return [T(f"{r.randint(2, 23)}-month-old")]
        form = r.choice(["{}-year-old", "{}-year-old", "{}-year-old", "{} year old", "{} y/o", "{} yo", "{}yo",
                         "{} y.o.", "{}-yo"])
        s = form.format(a)
        return self.phi(s, "AGE") if a >= 90 else [T(s)]

    def s_agen(self):
        """Noun-ish age: 'age 91' (span '91'), '93 years old', '94 yo'."""
        r, a = self.r, self.age
        x = r.random()
        if x < 0.3:
            pre = r.choice(["age ", "aged ", "Age ", "age: "])
            return [T(pre)] + (self.phi(str(a), "AGE") if a >= 90 else [T(str(a))])
        s = r.choice(["{} years old", "{} yo", "{} y/o", "{}yo", "{} yrs old"]).format(a)
        return self.phi(s, "AGE") if a >= 90 else [T(s)]

    def s_agesex(self):
        """Compact '92F' / '67 M': the span is the number only."""
        a = self.age
        sep = self.r.choice(["", "", " "])
        sx = self.sex if self.r.random() < 0.8 else self.sex.lower()
        return (self.phi(str(a), "AGE") if a >= 90 else [T(str(a))]) + [T(sep + sx)]

    def s_ageok(self):
        a = self.r.randint(19, 89)
        return [T(self.r.choice(["{}-year-old", "{} year old", "{} y/o", "{}yo", "{} yo"]).format(a))]

    def s_agenum(self):
        return [T(str(self.r.randint(20, 89)))]

    # ---- sex / pronouns ----
    def s_sexw(self):
        if self.age < 18:
            return [T(self.r.choice({"M": ["boy", "male"], "F": ["girl", "female"]}[self.sex]))]
        return [T(self.r.choice(SEX_WORDS[self.sex][:3]))]

    def s_sexl(self):
        return [T(self.sex)]

    def s_he(self):
        return [T(PRONOUNS[self.sex]["he"])]

    def s_his(self):
        return [T(PRONOUNS[self.sex]["his"])]

    def s_him(self):
        return [T(PRONOUNS[self.sex]["him"])]

    # ---- contact ----
    def phone_str(self):
        r = self.r
        a = r.randint(201, 989)
        while a % 100 == 11:  # N11 codes are service codes, not area codes
            a = r.randint(201, 989)
        e, n = r.randint(200, 999), r.randint(0, 9999)
        st = r.choices(range(12), [18, 12, 10, 6, 6, 5, 5, 6, 3, 3, 2, 3])[0]
        if st == 0:
            s = f"({a}) {e}-{n:04d}"
        elif st == 1:
            s = f"{a}-{e}-{n:04d}"
        elif st == 2:
            s = f"{a}.{e}.{n:04d}"
        elif st == 3:
            s = f"{a} {e} {n:04d}"
        elif st == 4:
            s = f"+1 {a} {e} {n:04d}"
        elif st == 5:
            s = f"+1-{a}-{e}-{n:04d}"
        elif st == 6:
            s = f"1-{a}-{e}-{n:04d}"
        elif st == 7:
            s = f"{a}{e}{n:04d}"
        elif st == 8:
            s = f"({a}){e}-{n:04d}"
        elif st == 9:
            s = f"+1 ({a}) {e}-{n:04d}"
        elif st == 10:
            s = r.choice([f"+44 20 {r.randint(7000, 8999)} {n:04d}", f"+52 55 {r.randint(1000, 9999)} {n:04d}",
                          f"+91 {r.randint(70000, 99999)} {r.randint(10000, 99999)}",
                          f"+63 917 {e} {n:04d}", f"+49 30 {r.randint(1000000, 9999999)}"])
        else:
            s = f"{a}-{e}-{n:04d}"
        if r.random() < 0.07:
            s += r.choice([f" ext. {r.randint(2, 9999)}", f" x{r.randint(100, 999)}", f" ext {r.randint(1, 99)}"])
        return s

    def s_phone(self):
        return self.phi(self.once("phone", self.phone_str), "PHONE")

    def s_cell(self):
        return self.phi(self.once("cell", self.phone_str), "PHONE")

    def s_ophone(self):
        """Office / other phone: a fresh number each time."""
        return self.phi(self.phone_str(), "PHONE")

    def s_fax(self):
        return self.phi(self.once("fax", self.phone_str), "FAX")

    def email_for(self, p, provider=False):
        r = self.r
        f, l = slug(p.first) or "pt", slug(p.last) or "x"
        if provider:
            dom = slug(self.fac_obj()[0])[:14] + r.choice([".org", "health.org", ".com", "med.org"])
            return r.choice([f"{f[0]}{l}@{dom}", f"{f}.{l}@{dom}", f"{l}{f[0]}@{dom}"])
        dom = r.choice(self.P.email_domains)
        n = r.randint(1, 99)
        return r.choice([f"{f}.{l}@{dom}", f"{f}{l}{n}@{dom}", f"{f[0]}{l}@{dom}", f"{f}_{l}@{dom}",
                         f"{l}.{f}{n}@{dom}", f"{f}{n}@{dom}", f"{r.choice(self.P.words)}{f}{n}@{dom}"])

    def s_email(self):
        return self.phi(self.once("email", lambda: self.email_for(self.pt)), "EMAIL")

    def s_dremail(self):
        return self.phi(self.once("dremail", lambda: self.email_for(self.provider("dr"), True)), "EMAIL")

    def s_famemail(self):
        return self.phi(self.once("famemail", lambda: self.email_for(self.fam()[1])), "EMAIL")

    def s_url(self):
        def mk():
            r = self.r
            p = self.pt
            f, l = slug(p.first) or "pt", slug(p.last) or "x"
            fd = slug(self.fac_obj()[0])[:16]
            x = r.randint(0, 9)
            if x == 0:
                return f"https://mychart.{fd}.org/MyChart/"
            if x == 1:
                return f"https://portal.{fd}health.com/patient/{r.randint(100000, 9999999)}"
            if x == 2:
                return f"www.{f}{l}.com"
            if x == 3:
                return f"https://www.caringbridge.org/visit/{f}{l}"
            if x == 4:
                return f"https://gofundme.com/f/help-{f}-{l}-{r.randint(2, 99)}"
            if x == 5:
                return f"https://facebook.com/{f}.{l}.{r.randint(10, 9999)}"
            if x == 6:
                return f"http://{l}family.net/blog/{r.randint(2016, 2025)}/{r.randint(1, 12):02d}"
            if x == 7:
                return f"https://{fd}.org/patients/records?id={r.randint(10000, 999999)}"
            if x == 8:
                return f"https://telehealth.{fd}.com/join/{''.join(r.choice('abcdefghjkmnpqrstuvwxyz23456789') for _ in range(8))}"
            return f"https://www.linkedin.com/in/{f}-{l}-{r.randint(100, 999)}"
        return self.phi(self.once("url", mk), "URL")

    def s_ip(self):
        def mk():
            r = self.r
            x = r.random()
            if x < 0.45:
                return r.choice(self.P.ipv4_public)
            if x < 0.65:
                return r.choice([f"10.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}",
                                 f"192.168.{r.randint(0, 255)}.{r.randint(1, 254)}",
                                 f"172.{r.randint(16, 31)}.{r.randint(0, 255)}.{r.randint(1, 254)}"])
            v6 = r.choice(self.P.ipv6)
            return str(ipaddress.IPv6Address(v6)) if r.random() < 0.5 else v6
        return self.phi(self.once("ip", mk), "IP_ADDRESS")

    # ---- places ----
    def addr_obj(self, key="addr"):
        def mk():
            r = self.r
            x = r.random()
            if x < 0.1:
                street = r.choice(["PO Box ", "P.O. Box ", "Post Office Box ", "PO BOX "]) + str(r.randint(1, 9999))
                return street
            if x < 0.13:
                return f"RR {r.randint(1, 9)} Box {r.randint(1, 400)}"
            num = str(r.choice([r.randint(1, 99), r.randint(100, 9999), r.randint(10000, 99999)]))
            if r.random() < 0.45:
                street = r.choice(self.P.fake_streets)
            else:
                street = r.choice(STREET_BASES) + " " + r.choice(STREET_SUFFIXES)
            if r.random() < 0.18:
                street = r.choice(["N ", "S ", "E ", "W ", "North ", "West ", "NE ", "SW "]) + street
            s = f"{num} {street}"
            if r.random() < 0.45:
                sep = r.choice([", ", " ", ", "])
                sec = r.choice([f"Apt {r.randint(1, 40)}{r.choice('ABCD')}", f"Apt. {r.randint(1, 999)}",
                                f"#{r.randint(1, 999)}", f"Unit {r.randint(1, 60)}", f"Suite {r.randint(100, 950)}",
                                f"Ste {r.randint(100, 950)}", f"Apartment {r.randint(1, 30)}",
                                f"Bldg {r.randint(1, 9)}, Apt {r.randint(1, 30)}", f"Lot {r.randint(1, 90)}"])
                s += sep + sec
            return s
        return self.once(key, mk)

    def s_addr(self):
        return self.phi(self.addr_obj(), "ADDRESS")

    def s_addr2(self):
        return self.phi(self.addr_obj("addr2"), "ADDRESS")

    def city_str(self):
        r = self.r
        return r.choice(REAL_CITIES) if r.random() < 0.65 else r.choice(self.P.fake_cities)

    def s_city(self):
        return self.phi(self.once("city", self.city_str), "LOCATION")

    def s_city2(self):
        return self.phi(self.once("city2", self.city_str), "LOCATION")

    def s_st(self):
        return [T(self.once("st", lambda: self.r.choice(STATE_ABBR) if self.r.random() < 0.8 else self.r.choice(STATES)))]

    def zip_str(self):
        z = self.r.randint(1001, 99950)
        return f"{z:05d}-{self.r.randint(1, 9999):04d}" if self.r.random() < 0.2 else f"{z:05d}"

    def s_zip(self):
        return self.phi(self.once("zip", self.zip_str), "LOCATION")

    def s_csz(self):
        """'Dayton, OH 45402' -> city and ZIP are LOCATION, the state is not PHI."""
        sep = self.r.choice([", ", ", ", " "])
        return self.s_city() + [T(sep)] + self.s_st() + [T(self.r.choice([" ", " ", "  "]))] + self.s_zip()

    def s_fulladdr(self):
        return self.s_addr() + [T(self.r.choice([", ", ", ", "\n", " "]))] + self.s_csz()

    def s_county(self):
        def mk():
            r = self.r
            base = r.choice(COUNTY_NAMES) if r.random() < 0.7 else r.choice(self.P.names["en_US"]["L"])
            return base + r.choice([" County", " County", " County", " Parish"])
        return self.phi(self.once("county", mk), "LOCATION")

    def fac_make(self):
        r = self.r
        x = r.random()
        if x < 0.15:
            name = r.choice(FAMOUS_FACILITIES)
        elif x < 0.45:
            name = r.choice(FAC_SAINTS) + " " + r.choice(FAC_HOSP_SUFFIX)
        elif x < 0.7:
            name = r.choice(FAC_PLACES) + " " + r.choice(FAC_HOSP_SUFFIX + FAC_PRACT_SUFFIX)
        elif x < 0.82:
            p = self.P.person(r)
            if r.random() < 0.3:
                name = f"{p.last} & {self.P.person(r).last} {r.choice(FAC_PRACT_SUFFIX)}"
            else:
                name = f"{p.last} {r.choice(FAC_PRACT_SUFFIX)}"
        elif x < 0.92:
            name = r.choice(REAL_CITIES) + " " + r.choice(FAC_HOSP_SUFFIX)
        else:
            name = "University of " + r.choice(FAC_PLACES) + " " + r.choice(["Medical Center", "Hospital", "Health"])
        return (name,)

    def fac_obj(self):
        return self.once("fac", self.fac_make)

    def s_fac(self):
        return self.phi(self.fac_obj()[0], "FACILITY")

    def s_fac2(self):
        return self.phi(self.once("fac2", self.fac_make)[0], "FACILITY")

    def s_where(self):
        """A care setting: a named facility in positive docs (mostly), a generic word otherwise."""
        if not self.neg and self.r.random() < 0.6:
            return self.s_fac2()
        return [T(self.r.choice(GENERIC_FACILITIES))]

    # ---- identifiers ----
    def rand_digits(self, n):
        return "".join(self.r.choice("0123456789") for _ in range(n))

    def rand_alnum(self, n, alpha="ABCDEFGHJKLMNPRSTUVWXYZ0123456789"):
        return "".join(self.r.choice(alpha) for _ in range(n))

    def s_mrn(self):
        def mk():
            r = self.r
            x = r.random()
            if x < 0.65:
                return self.rand_digits(r.choice([6, 7, 7, 8, 8, 9, 10]))
            if x < 0.75:
                return "00" + self.rand_digits(r.choice([5, 6, 7]))
            if x < 0.88:
                return r.choice(["E", "M", "MR", "H", "A"]) + self.rand_digits(r.choice([6, 7, 8]))
            return f"{self.rand_digits(2)}-{self.rand_digits(r.choice([3, 4]))}-{self.rand_digits(r.choice([2, 3]))}"
        return self.phi(self.once("mrn", mk), "MRN")

    def s_ssn(self):
        return self.phi(self.once("ssn", lambda: gen_ssn(self.r)), "SSN")

    def s_hpid(self):
        def mk():
            r = self.r
            x = r.random()
            if x < 0.3:
                return self.rand_alnum(3, "ABCDEFGHJKLMNPQRSTUVWXYZ") + self.rand_digits(9)
            if x < 0.45:
                return "W" + self.rand_digits(9)
            if x < 0.65:
                return gen_mbi(r)
            if x < 0.75:
                return self.rand_alnum(2, "ABCDEFGHJKLMNPRSTUVWXYZ") + self.rand_digits(5) + r.choice("ABCDEFGHJK")
            if x < 0.9:
                return self.rand_digits(r.choice([9, 10, 11, 12]))
            return f"{self.rand_alnum(3, 'ABCDEFGHJKLMNPRSTUVWXYZ')}-{self.rand_digits(4)}-{self.rand_digits(5)}"
        return self.phi(self.once("hpid", mk), "HEALTH_PLAN_ID")

    def s_grp(self):
        def mk():
            r = self.r
            return r.choice([self.rand_digits(r.choice([5, 6, 7])), "GRP-" + self.rand_digits(7),
                             self.rand_alnum(2, "ABCDEFGHJKLMNPRSTUVWXYZ") + self.rand_digits(6)])
        return self.phi(self.once("grp", mk), "HEALTH_PLAN_ID")

    def s_acct(self):
        def mk():
            r = self.r
            return r.choice([self.rand_digits(r.choice([8, 9, 10, 11, 12])), "A" + self.rand_digits(9),
                             f"{self.rand_digits(4)}-{self.rand_digits(6)}", "HAR" + self.rand_digits(8)])
        return self.phi(self.once("acct", mk), "ACCOUNT_NUMBER")

    def s_npi(self):
        return self.phi(self.once("npi", lambda: gen_npi(self.r)), "LICENSE_NUMBER")

    def s_dea(self):
        return self.phi(self.once("dea", lambda: gen_dea(self.r, self.provider("dr").last)), "LICENSE_NUMBER")

    def s_lic(self):
        def mk():
            r = self.r
            return r.choice([r.choice("ABCDEGH") + self.rand_digits(r.choice([5, 6])),
                             "MD" + self.rand_digits(6), f"{r.choice(['MD', 'DO', 'RN'])}.{self.rand_digits(7)}",
                             f"{r.choice('AG')}-{self.rand_digits(5)}", "25MA" + self.rand_digits(8),
                             self.rand_digits(r.choice([6, 7]))])
        return self.phi(self.once("lic", mk), "LICENSE_NUMBER")

    def s_dl(self):
        def mk():
            r = self.r
            return r.choice([r.choice("ABCDFGHJKLMNPRSTW") + self.rand_digits(7),
                             r.choice("ABCDFGHJKLMNPRSTW") + self.rand_digits(12), self.rand_digits(9),
                             f"{r.choice('ABCDFGHJKLMNPRSTW')}{self.rand_digits(3)}-{self.rand_digits(4)}-{self.rand_digits(4)}",
                             f"{self.rand_digits(3)} {self.rand_digits(3)} {self.rand_digits(3)}"])
        return self.phi(self.once("dl", mk), "LICENSE_NUMBER")

    def s_vin(self):
        return self.phi(self.once("vin", lambda: gen_vin(self.r)), "VEHICLE_ID")

    def s_plate(self):
        def mk():
            r = self.r
            L = lambda n: self.rand_alnum(n, "ABCDEFGHJKLMNPRSTUVWXYZ")
            return r.choice([f"{r.randint(1, 9)}{L(3)}{self.rand_digits(3)}", f"{L(3)}-{self.rand_digits(4)}",
                             f"{L(3)} {self.rand_digits(4)}", f"{self.rand_digits(3)} {L(3)}",
                             f"{L(2)}{self.rand_digits(2)}{L(3)}"])
        return self.phi(self.once("plate", mk), "VEHICLE_ID")

    def s_dev(self):
        def mk():
            r = self.r
            return r.choice([self.rand_alnum(3, "ABCDEFGHJKLMNPRSTUVWXYZ") + self.rand_digits(6) + r.choice("SHGRN"),
                             f"{self.rand_alnum(4)}-{self.rand_alnum(4)}-{self.rand_alnum(4)}",
                             r.choice("GHKN") + self.rand_digits(9), self.rand_alnum(6),
                             "SN" + self.rand_digits(8), f"{self.rand_alnum(2)}{self.rand_digits(7)}"])
        return self.phi(self.once("dev", mk), "DEVICE_ID")

    def s_udi(self):
        def mk():
            r = self.r
            exp = self.near(200, 900)
            return (f"(01)0{self.rand_digits(13)}(17){exp.year % 100:02d}{exp.month:02d}{exp.day:02d}"
                    f"(10){self.rand_alnum(6)}(21){self.rand_alnum(r.choice([6, 8]))}")
        return self.phi(self.once("udi", mk), "DEVICE_ID")

    def s_imei(self):
        def mk():
            body = self.r.choice(["35", "86", "01", "99"]) + self.rand_digits(12)
            s = body + imei_check(body)
            return f"{s[:2]}-{s[2:8]}-{s[8:14]}-{s[14]}" if self.r.random() < 0.4 else s
        return self.phi(self.once("imei", mk), "DEVICE_ID")

    def s_bio(self):
        def mk():
            r = self.r
            return r.choice([f"FP-{self.rand_alnum(4)}-{self.rand_alnum(4)}", "BIO" + self.rand_digits(8),
                             f"IRIS-{self.rand_digits(4)}-{self.rand_alnum(2)}",
                             "".join(r.choice("0123456789abcdef") for _ in range(16)),
                             f"VP{self.rand_digits(6)}", f"PALM-{self.rand_alnum(6)}"])
        return self.phi(self.once("bio", mk), "BIOMETRIC_ID")

    def other_id(self, kind):
        r = self.r
        if kind == "claim":
            return r.choice([self.rand_digits(r.choice([11, 12, 13, 15])),
                             f"CLM-{self.visit.year}-{self.rand_digits(7)}", f"{self.rand_alnum(2)}{self.rand_digits(10)}"])
        if kind == "accession":
            return r.choice([f"S{self.visit.year % 100:02d}-{self.rand_digits(5)}",
                             f"{self.visit.year % 100:02d}-{r.choice(['MB', 'CY', 'SP', 'HE'])}-{self.rand_digits(6)}",
                             "A" + self.rand_digits(7), self.rand_digits(10)])
        if kind == "auth":
            return r.choice(["PA-" + self.rand_digits(7), self.rand_digits(10), f"AUTH{self.rand_digits(8)}",
                             f"{self.rand_alnum(3)}{self.rand_digits(6)}"])
        if kind == "rx":
            return r.choice([self.rand_digits(7), self.rand_digits(r.choice([6, 8])), f"RX{self.rand_digits(7)}"])
        if kind == "subj":
            return r.choice([f"{self.rand_digits(3)}-{self.rand_digits(4)}", f"SUBJ-{self.rand_digits(3)}-{self.rand_digits(4)}",
                             f"{self.rand_alnum(3)}{self.rand_digits(3)}-{self.rand_digits(3)}"])
        if kind == "badge":
            return r.choice(["E" + self.rand_digits(7), self.rand_digits(6), f"EMP-{self.rand_digits(5)}"])
        if kind == "csn":
            return self.rand_digits(r.choice([9, 10]))
        if kind == "passport":
            return r.choice([self.rand_digits(9), r.choice("ABCEFGHKLMNP") + self.rand_digits(8)])
        if kind == "case":
            return r.choice([f"{self.visit.year}-{self.rand_digits(6)}", f"C{self.rand_digits(8)}",
                             f"INC-{self.rand_digits(7)}"])
        raise ValueError(kind)

    def _oid(self, kind):
        return self.phi(self.once("oid_" + kind, lambda: self.other_id(kind)), "OTHER_ID")

    # ---- non-PHI clinical content ----
    def s_drug(self):
        return [T(self.r.choice(DRUG_NAMES))]

    def s_drug2(self):
        return [T(self.r.choice(DRUG_NAMES))]

    def s_drugdose(self):
        d, dose = self.r.choice(DRUG_DOSES)
        return [T(f"{d} {dose}")]

    def s_drugclass(self):
        return [T(self.r.choice(DRUG_CLASSES))]

    def s_dx(self):
        return [T(self.r.choice(DX_ALL) if self.r.random() < 0.6 else self.r.choice(DX))]

    def s_epon(self):
        return [T(self.r.choice(EPONYMS))]

    def s_sign(self):
        return [T(self.r.choice(EXAM_SIGNS))]

    def s_eponx(self):
        return [T(self.r.choice(EPONYM_SIGNS))]

    def s_complaint(self):
        return [T(self.r.choice(COMPLAINTS))]

    def s_dur(self):
        return [T(self.r.choice(DURATIONS))]

    def s_proc(self):
        return [T(self.r.choice(PROCEDURES))]

    def s_infection(self):
        return [T(self.r.choice(INFECTIONS))]

    def s_specialty(self):
        return [T(self.r.choice(SPECIALTIES))]

    def s_job(self):
        return [T(self.r.choice(JOBS))]

    def s_payer(self):
        return [T(self.once("payer", lambda: self.r.choice(PAYERS)))]

    def s_state(self):
        return [T(self.r.choice(STATES))]

    def s_country(self):
        return [T(self.r.choice(COUNTRIES))]

    def s_genfac(self):
        return [T(self.r.choice(GENERIC_FACILITIES))]

    def s_year(self):
        return [T(str(self.r.randint(1985, self.visit.year)))]

    def s_icdq(self):
        return [T(self.r.choice(ICD_QUESTIONS))]

    def s_cptq(self):
        return [T(self.r.choice(CPT_QUESTIONS))]

    def s_score(self):
        return [T(self.r.choice(SCORES))]

    def s_murmur(self):
        return [T(self.r.choice(MURMURS))]

    def s_kg(self):
        return [T(str(self.r.choice([8, 12, 15, 18, 22, 27, 32, 40, 45])))]

    def s_bp(self):
        return [T(f"{self.r.randint(92, 182)}/{self.r.randint(52, 108)}")]

    def s_hr(self):
        return [T(str(self.r.randint(48, 128)))]

    def s_spo2(self):
        return [T(f"{self.r.randint(86, 100)}%")]

    def s_a1c(self):
        return [T(f"{self.r.randint(52, 121) / 10:.1f}%")]

    def s_egfr(self):
        return [T(str(self.r.randint(12, 95)))]

    def s_na(self):
        return [T(str(self.r.randint(118, 149)))]

    def s_k(self):
        return [T(f"{self.r.randint(28, 64) / 10:.1f}")]

    def s_wbc(self):
        return [T(f"{self.r.randint(22, 248) / 10:.1f}")]

    def s_cr(self):
        return [T(f"{self.r.randint(5, 62) / 10:.1f}")]

    def s_pain(self):
        return [T(str(self.r.randint(1, 10)))]

    def s_lab(self):
        return [T(self.lab_str())]

    def lab_str(self):
        r = self.r
        return r.choice([
            f"Na {r.randint(126, 147)}", f"K {r.randint(30, 62) / 10:.1f}", f"Cl {r.randint(92, 112)}",
            f"CO2 {r.randint(16, 31)}", f"BUN {r.randint(6, 68)}", f"Cr {r.randint(5, 48) / 10:.1f}",
            f"glucose {r.randint(62, 412)}", f"HbA1c {r.randint(52, 118) / 10:.1f}%", f"WBC {r.randint(28, 214) / 10:.1f}",
            f"Hgb {r.randint(68, 162) / 10:.1f}", f"Plt {r.randint(42, 512)}", f"eGFR {r.randint(14, 98)}",
            f"INR {r.randint(9, 41) / 10:.1f}", f"TSH {r.randint(2, 120) / 10:.1f}", f"LDL {r.randint(48, 212)}",
            f"troponin {r.randint(1, 90) / 100:.2f}", f"BNP {r.randint(20, 2400)}", f"lactate {r.randint(6, 62) / 10:.1f}",
            f"ALT {r.randint(9, 240)}", f"AST {r.randint(10, 260)}", f"alk phos {r.randint(40, 380)}",
            f"lipase {r.randint(12, 1400)}", f"CRP {r.randint(1, 240) / 10:.1f}", f"ESR {r.randint(2, 110)}",
            f"ferritin {r.randint(6, 900)}", f"B12 {r.randint(120, 1200)}", f"vitamin D {r.randint(8, 62)}",
            f"PSA {r.randint(2, 240) / 10:.1f}", f"Mg {r.randint(12, 28) / 10:.1f}", f"phos {r.randint(18, 62) / 10:.1f}",
            f"Ca {r.randint(78, 118) / 10:.1f}", f"albumin {r.randint(18, 49) / 10:.1f}", f"T bili {r.randint(2, 62) / 10:.1f}",
            f"procalcitonin {r.randint(1, 180) / 100:.2f}", f"D-dimer {r.randint(150, 4800)}", f"pH {r.randint(718, 748) / 100:.2f}",
        ])

    def s_labs(self):
        n = self.r.randint(2, 5)
        return [T(", ".join(self.lab_str() for _ in range(n)))]

    def s_vitals(self):
        r = self.r
        parts = [f"BP {r.randint(92, 182)}/{r.randint(52, 108)}", f"HR {r.randint(48, 128)}", f"RR {r.randint(12, 28)}",
                 r.choice([f"T {r.randint(361, 393) / 10:.1f} °C", f"Temp {r.randint(970, 1029) / 10:.1f} F",
                           f"T {r.randint(970, 1029) / 10:.1f}°F", "afebrile"]),
                 f"SpO2 {r.randint(86, 100)}% {r.choice(['on RA', 'on room air', 'on 2L NC', 'on 4 L', ''])}".strip()]
        if r.random() < 0.5:
            parts.append(r.choice([f"Wt {r.randint(40, 140)} kg", f"weight {r.randint(95, 320)} lb", f"BMI {r.randint(170, 450) / 10:.1f}"]))
        sep = r.choice([", ", " | ", "  ", "; "])
        return [T(sep.join(parts))]


def ordinal_suffix(n):
    if 11 <= n % 100 <= 13:
        return "th"
    return {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")



# Slots {claim}, {csn}, ...: one OTHER_ID of that kind per document.
for _kind in ("claim", "accession", "auth", "rx", "subj", "badge", "csn", "passport", "case"):
    setattr(Ctx, "s_" + _kind, lambda self, kind=_kind: self._oid(kind))

# --------------------------------------------------------------------------------------------------
# Templates
# --------------------------------------------------------------------------------------------------

CHAT_POS = [
    "summarize the visit for {ptn} dob {dob}, mrn {mrn}",
    "Summarize {pt}'s last three visits. MRN {mrn}.",
    "write a discharge summary for {pt}, {age} {sexw} admitted {adate} to {fac} for {dx}",
    "draft a prior auth for {drug} for {pt} (DOB {dob}, member ID {hpid})",
    "pt {ptn} called from {phone} asking about {his} {drug} refill, what should I tell {him}?",
    "can you help me reply to {ptf}? {he} emailed from {email} asking about {his} {lab} result",
    "convert to APSO: {age} {sexw} seen {vdate} for {complaint}. PCP {drl}.",
    "what's the ICD-10 code for {dx}? pt {ptlf}, acct {acct}",
    "is {drug} ok for {ptf} ({agen}) with eGFR {egfr}?",
    "look up {ptlf} SSN {ssn} in the immunization registry",
    "explain these labs to {pt} in plain language: {labs}",
    "{ptn} lives at {addr}, {csz} - which home health agency covers that area?",
    "who's on call for cardiology at {fac} tonight? need to transfer {ptn}",
    "fax the referral for {pt} to {fax} attn {drl}",
    "translate the discharge instructions into Spanish for {pt}, {his} {rel}'s number is {phone}",
    "pacemaker serial {dev} for {ptn} - is it MRI conditional?",
    "portal login for MRN {mrn} from IP {ip} looks suspicious, what do we do?",
    "{ptn} is {agen} and wants to stop {his} statin, thoughts?",
    "{Age} {sexw} with {dx}, seen {rdate} at {fac}. draft a follow-up note",
    "write a letter to {drfull} at {fac} about {ptn}, DOB {dob}",
    "need a work note for {ptn}, out {date} through {fdate}",
    "claim {claim} for {ptn} was denied, draft an appeal citing {dx}",
    "what did {drl} say about {ptf}'s MRI from {pdate}?",
    "schedule {ptn} ({mrn}) for a colonoscopy at {fac}",
    "ED handoff: {ptlf}, {agen}, {dx}, family at {phone}",
    "email {ptf} at {email} a summary of {his} visit on {vdate}",
    "text {pt} at {cell}: reminder about the appointment {ndate}",
    "verify insurance: {payer} member {hpid}, subscriber {ptn}, DOB {dob}",
    "pull the chart for {ptlf} MRN {mrn} and list active meds",
    "what's the plan for {ptn} after {his} fall {rdate}?",
    "driver's license {dl} was scanned for {ptn} at registration, is that enough for ID verification?",
    "the VIN on the MVC report is {vin} - pt {ptn}, does it go in the trauma note?",
    "add {famn} ({phone}) as emergency contact for {ptn}",
    "prescribe {drugdose} for {ptn}; my DEA is {dea} and NPI {npi}",
    "accession {accession} - are the path results back for {ptn}?",
    "does {ptn}, DOB {dob}, need a tetanus booster? last one {pdate}",
    "rewrite this for the patient portal: Dear {ptf}, your A1c was {a1c} and your LDL improved",
    "{ptn} from {city} ({county}) tested positive for {infection}, do we report to the county?",
    "summarize: {agen} {sexw}, {fac} admit {adate}, {dx}, dc'd {ddate}",
    "check the site {url} that {ptn} sent me - is this supplement legit?",
    "{ptn} asked us to update {his} address to {addr}, {city} {zip}",
    "write SOAP note: {ptn} {agesex} c/o {complaint} x {dur}, MRN {mrn}",
    "mrn {mrn} {ptn} - what's {his} creatinine trend",
    "make a referral to {drfull}, {fac}, phone {ophone}, for {ptn}",
    "pt {ptn} - fingerprint ID {bio} didn't match at check-in, how do I override?",
    "patient {ptn} policy # {hpid} group {grp} - does {payer} cover {drug}?",
    "{ptn}'s {rel} {famn} called ({phone}), says {he} fell {rdate}",
    "{ptl} refuses {drug}. how do I document capacity?",
    "summarize the consult from {drl} on {date} for {ptlf}",
    "born {dob}, {ptn} - is {he} due for the shingles vaccine?",
    "ICD-10 for {dx} in {ptn}, acct #{acct}, DOS {vdate}",
    "insulin pump serial {dev} for {ptn} keeps alarming, what does occlusion alarm mean?",
    "{ptn} ({agen}) at {fac} wants to be DNR, help me document it",
    "{ptlf} {dob} {mrn} labs pls",
    "note for {ptn}: seen {vdate}, BP {bp}, A1c {a1c}, continue {drugdose}",
    "send {ptf}'s records to {fac2}, fax {fax}",
    "the patient {ptn} (SSN {ssn}) needs a disability form filled out",
    "{ptn} uses {email} - draft a reply about {his} {drug} side effects",
    "Patient ID {mrn}: {ptn}, admitted {adate}. summarize the progress notes",
    "did {ptn} ever get the covid booster? chart says {date}",
    "pt is {agen}, {dx}, lives alone at {addr} - safe for discharge home?",
    "called {ptn} at {phone}, no answer, left VM. document this",
    "{drl} wants a summary of {ptn}'s hospital course at {fac}",
    "rx #{rx} for {ptn} was rejected by the pharmacy, why?",
    "study subject {subj} ({ptn}) had an AE on {date}, write the SAE narrative",
    "{ptn} moved to {city}, {st}. transfer care to {fac}?",
    "what's the portal link for {ptn}? I have {url}",
    "{ptn}, {agen}, from {county} - eligible for the home visit program?",
    "{ptn} DOB {dob} MRN {mrn} - write the H&P",
    "cc {drfull} on the note for {ptn}",
    "prior auth #{auth} for {ptn}'s MRI is pending - write a follow-up script",
    "security wants {ptn}'s plate {plate} for the parking exemption, ok to share?",
    "employee {ptn} (badge {badge}) had a needlestick {rdate}, which labs?",
    "the patient {ptn} was last seen {pdate}, overdue for mammogram?",
    "insurance card says {payer}, ID {hpid}, {ptn}. is prior auth needed for {proc}?",
    "reply to {email}: thanks for the update, we will call you {ndate}",
    "{ptn} {agen} hospice eval at {fac}",
    "how should I tell {ptf} that {his} biopsy came back positive?",
    "{drl} asked me to follow up on {ptn}'s potassium of 5.9",
    "what do you think of {ptn}'s rash? {he} is {age} and on {drug}",
    "{Ptn} {agesex} {dx} - draft a goals of care summary",
    "pt: {ptlf}\nDOB: {dob}\nq: can {he} take {drug} with {drug2}?",
    "is a {age} on {drugdose} at risk of falls? pt is {ptn}",
    "write a return to school note for {ptn}, seen {vdate}, cleared {fdate}",
    "encounter CSN {csn} for {ptn} is missing a diagnosis, which one fits {complaint}?",
    "{ptn}'s passport number is {passport}, needs a travel letter for {his} {drug}",
    "hi, this is for {ptn} at {fac} - {he} was discharged {rdate}, please draft TCM call notes",
    "social work note: {ptn} staying at {addr}, {city}, phone {phone}",
    "device IMEI {imei} on {ptn}'s remote monitor stopped sending, who do I call?",
    "UDI {udi} - which implant is this? pt {ptn}",
    "case #{case} ({ptn}) - summarize the incident for risk management",
    "what's {ptf} {ptlast}'s next appointment? I think it's {ndate}",
    "{ptf} {ptlast} mrn {mrn} bp {bp}",
    "pls summarize {ptn} {agesex} from {city}, {dx}, visit {vdate}",
    "license {lic} for {drfull} expires soon, draft renewal reminder",
    "our NP {nurse} needs a summary of {ptn}'s wound care",
    "{ptn} email {email} phone {phone} - set up portal access",
    "can {ptf} fly {ndate}? {he} is {age} with {dx}",
    "{Age} {sexw}, DOB {dob}, {dx}. what's the CHA2DS2-VASc?",
    "new sign-in to {ptn}'s portal account from {ip} - legit or phishing?",
    "audit log shows MRN {mrn} opened from IP {ip} at 2am, draft an incident report",
    "{ptn} says the check-in kiosk rejected {his} palm scan ID {bio}",
    "biometric template {bio} is linked to the wrong chart ({ptlf}), how do I fix it?",
    "SSN {ssn} on the intake form for {ptn} doesn't match the insurance card, what now?",
    "social security number for {ptlf} is {ssn}, add it to the disability paperwork",
    "CGM transmitter ID {dev} for {ptn} expired, order a new one",
    "{ptn}'s hearing aid (serial no. {dev}) was lost at {fac}, draft an apology letter",
    "{ptn}'s family posts updates at {url} - can we reference it in the chart?",
    "telehealth link {url} for {ptn} isn't working, resend?",
    "home monitoring hub for {ptn} reports IP {ip}, is that our network?",
    "voiceprint ID {bio} failed for {ptn} on the pharmacy phone line, alternatives?",
    "ss# {ssn} dob {dob} - verify for {ptlf}",
    "the insurer needs the VIN ({vin}) of {ptn}'s car for the MVC claim",
    "{ptn} was the driver, vehicle VIN {vin}, plate {plate} - write the trauma H&P header",
]

CHAT_NEG = [
    "what is the max dose of {drug} in a {kg} kg child?",
    "ICD-10 code for {icdq}",
    "icd 10 for {icdq}?",
    "CPT code for {cptq}",
    "{ageok} {sexw} with {dx} and {dx}, what's the workup for {complaint}?",
    "does {drug} interact with {drug2}?",
    "summarize the evidence for {drug} in {dx}",
    "is {lab} concerning in a {ageok} on {drugdose}?",
    "explain {epon} to a patient in simple terms",
    "what causes {epon}?",
    "differential for {complaint} in a {ageok} {sexw}",
    "BP {bp}, HR {hr}, SpO2 {spo2} - what's the next step?",
    "how do I calculate the Glasgow Coma Scale?",
    "what are the components of the {eponx}?",
    "is {infection} common in {state}?",
    "travel vaccines recommended for {country}?",
    "patient was diagnosed in {year} with {dx}, now on {drugdose}. taper plan?",
    "write a patient handout on {dx}",
    "what labs should I order before starting {drug}?",
    "renal dosing for {drug} with eGFR {egfr}",
    "is a {murmur} murmur in a {ageok} significant?",
    "pain {pain}/10, strength 4/5 in the left leg - could this be cauda equina?",
    "hope this isn't a dumb question, but can {drug} cause hair loss?",
    "will {drug} raise potassium?",
    "how do I mark an allergy as inactive in the chart?",
    "can we bill 99214 for a 25 minute visit with {dx}?",
    "does Medicare cover {proc}?",
    "BP rose from 120/80 to 170/95 after starting {drug}, why?",
    "how to address faith and spirituality in a palliative care conversation",
    "walker vs cane for a {ageok} with {epon}?",
    "green stool after iron supplements - normal?",
    "the ED wants to admit a {ageok} with {dx}; what are the admission criteria?",
    "our hospital is updating the sepsis protocol; summarize SEP-1",
    "transfer from an outside hospital - what records should the clinic request?",
    "Apgar {pain} and 9 at 1 and 5 minutes - what does that mean?",
    "HbA1c {a1c} on {drugdose} - add {drug2}?",
    "WBC {wbc} with left shift, lactate 3.1, is this sepsis?",
    "Na {na}, how fast can I correct it?",
    "translate 'take one tablet twice daily with food' into Spanish",
    "make a table of {drugclass} with starting doses",
    "what's the half-life of {drug}?",
    "write a SOAP note template for {complaint}",
    "is {drug} safe in pregnancy?",
    "how should I counsel on {drug} side effects?",
    "list of drugs that prolong the QT interval",
    "difference between ICD-10 codes for {dx} and {dx}",
    "{ageok} F G2P1 at 32 weeks with BP {bp} - preeclampsia workup?",
    "post-op day 2 after {proc}, fever 38.4 °C - workup?",
    "Wells score for PE with HR 110 and recent surgery?",
    "is an HbA1c of 6.4% prediabetes?",
    "Child-Pugh B cirrhosis - can I give {drug}?",
    "vaccine schedule for a 2-month-old?",
    "grant us a quick review of {drugclass} in CKD",
    "how long after {proc} can a patient drive?",
    "first-line treatment for {epon} in adults",
    "Babinski sign positive on the right, what does it localize?",
    "explain the {eponx} like I'm a med student",
    "is Down syndrome associated with early Alzheimer's disease?",
    "what is the Crohn's disease activity index?",
    "rose bengal staining - what is it used for?",
    "bill for a telehealth visit with modifier 95 or GT?",
    "long-acting vs short-acting insulin for a {ageok} with {dx}",
    "strength 5/5, sensation intact, reflexes 2+ - write the neuro exam in prose",
    "convert 40 mg IV furosemide to oral dose",
    "what does a {score} mean?",
    "{Drug} vs {drug2} for {dx}?",
    "management of {dx} in a patient from {country}",
    "prior auth criteria for {drug} with {payer}?",
    "guidelines for lipid screening, 2019 vs 2023 update",
    "can you explain eGFR {egfr} and CKD staging?",
    "we moved the clinic to a new EHR in {year}; how do I find old notes?",
    "will the patient need a Foley after {proc}?",
    "how to taper prednisone after 3 weeks of 40 mg?",
    "what's the workup for a {ageok} {sexw} with new {epon}?",
    "mark the site before surgery: which policy applies?",
    "Young adult with syncope after standing - orthostatic vitals protocol?",
    "is 2/6 murmur normal in pregnancy?",
    "statin intensity table please",
    "how to dose vancomycin by AUC?",
    "{Genfac} wants a bed for a {ageok} with {dx} - what level of care?",
    "abx for {dx} with penicillin allergy?",
    "what is Lyme disease prophylaxis after a tick bite in {state}?",
    "Cushing syndrome vs Cushing disease - difference?",
    "patient from {state} asking about medical cannabis for {dx}, evidence?",
    "hope and expectations: how do I phrase prognosis for {epon}?",
    "write discharge instructions for {dx} at a 6th grade reading level",
]

MSG_PT_POS = [
    "I've been having {complaint} since {rdate} and it's getting worse.",
    "I took my {drug} {rdate} but I think I missed the dose on {pdate}.",
    "My pharmacy changed to the one at {addr2}, can you send the refill there?",
    "You can reach me at {phone} after 5.",
    "My new insurance is {payer}, member ID {hpid}.",
    "My {rel} {famn} will bring me to the appointment on {fdate}.",
    "I was seen at {fac2} on {date} for {dx} and they said to follow up with you.",
    "Is it ok to take {drug} with my {drug2}?",
    "I moved, so please update my address to {fulladdr}.",
    "My email changed, it's now {email}.",
    "The portal at {url} won't let me log in.",
    "I'm {agen} so I don't drive anymore; my {rel} {famn} can be reached at {cell}.",
    "My MRN is {mrn} if that helps.",
    "Please fax the forms to my work at {fax}.",
    "Dr. {drlast} said to message if the swelling didn't go down.",
    "My blood sugars have been around 180-220 in the mornings.",
    "I had my labs drawn {rdate} at {fac2}.",
    "My date of birth is {dob}.",
    "Also my {rel}'s email is {famemail} if you can't reach me.",
    "We are in {city} until {fdate} visiting family.",
    "My account number on the bill is {acct}, I think I was charged twice.",
    "This is {ptn}, I'm a patient of {drl}.",
    "The claim number they gave me is {claim}.",
]
MSG_STAFF_POS = [
    "{Drl} reviewed your labs from {date}. Your {lab} is in the expected range.",
    "Your appointment with {drl} is scheduled for {fdate} at 10:30 AM.",
    "Please call our office at {ophone} to schedule.",
    "We received your records from {fac2}.",
    "Your prior authorization for {drug} was approved (auth #{auth}).",
    "Your statement for account {acct} shows a balance of $45.20.",
    "Your {drug} refill was sent to the pharmacy on {date}.",
    "If you have chest pain or trouble breathing, call 911 or go to the nearest ER.",
    "We tried to reach you at {phone} but the mailbox was full.",
    "Please bring your insurance card and a photo ID to your visit {ndate}.",
    "Your imaging at {fac2} is booked for {fdate}; arrive 15 minutes early.",
    "The results were also sent to {doc2}.",
    "Please complete the questionnaire at {url} before your visit.",
    "We have your address as {fulladdr}. Is that still correct?",
    "Your referral to {specialty} was faxed to {fax}.",
    "Our records show your date of birth as {dob}; please confirm.",
    "Your telehealth visit link is {url}.",
    "We noticed a sign-in to your account from IP address {ip}; if this was not you, reset your password.",
    "Your fingerprint check-in (ID {bio}) has been reset; please re-enroll at the front desk.",
]
MSG_NEG_PT = [
    "quick question about my {drug} - should I take it with food?",
    "Is it normal to feel dizzy after starting {drugdose}?",
    "My blood pressure has been running about {bp} at home.",
    "I have had {complaint} for {dur}. Should I be seen?",
    "Can I take {drug} and {drug2} together?",
    "I think I am having a reaction, my skin is itchy and red.",
    "Will I need to fast before my blood work?",
    "I've had {epon} for years and the new medicine seems to help.",
    "My glucose readings are 110-140 before meals.",
    "Hope you are well. I wanted to ask about the side effects of {drug}.",
    "I ran out of my {drug} and the pharmacy says I need a new prescription.",
    "Is the flu shot ok for someone with {dx}?",
    "I tested positive for COVID at home. What should I do?",
    "My pain is about {pain}/10 and the ice helps a bit.",
]
MSG_NEG_STAFF = [
    "Your lab results are now available in the portal. Your HbA1c was {a1c}.",
    "Please continue {drugdose} and recheck your blood pressure in two weeks.",
    "If your symptoms worsen, go to the nearest emergency department.",
    "The clinic will send the prescription to your preferred pharmacy.",
    "Your kidney function (eGFR {egfr}) is stable compared with the last result.",
    "Drink plenty of fluids and rest. Tylenol can help with the fever.",
    "We recommend the shingles vaccine for adults over 50.",
    "Please schedule a follow-up visit in 3 months.",
    "Your cholesterol improved and the plan is to continue the statin.",
    "Low sodium diet handouts are attached.",
]

HPI_POS = [
    "{Ref} is a {age} {sexw} with a history of {dx} and {dx} who presents with {complaint} for {dur}.",
    "{Ptn} is a {age} {sexw} with {dx}, here for follow-up of {dx}.",
    "Symptoms began {rdate} after {he} ran out of {drug}.",
    "{He} was seen at {fac2} on {date} and started on {drugdose}.",
    "{His} {rel} {famn} reports that {he} has been more confused since {pdate}.",
    "Per {his} {rel}, {he} fell at home {rdate} and could not get up for several hours.",
    "{He} was last admitted to {fac} from {date} to {fdate} for {dx}.",
    "{Ref} lives in {city} with {his} {rel} and is independent in ADLs.",
    "Outside records from {drfull} at {fac2} were reviewed.",
    "{He} had a colonoscopy in {year} that showed two small polyps.",
    "{Ref} reports {complaint} that worsened {rdate}.",
    "ED course: given {drugdose}; {doc2} from {specialty} was consulted.",
    "Last echocardiogram on {pdate} showed an EF of 35%.",
    "{Ptf} notes improvement in {his} {complaint} since the dose change on {date}.",
    "{He} is {agen} and lives at {addr} in {city} with {his} {rel}.",
]
HPI_NEU = [
    "{Ref} is a {age} {sexw} with {dx} who presents with {complaint} for {dur}.",
    "{He} denies fevers, chills, chest pain or shortness of breath.",
    "{He} reports {complaint} that is worse with exertion and better with rest.",
    "Symptoms started {dur} ago and have been gradually worsening.",
    "{He} was diagnosed with {dx} in {year} and has been on {drugdose} since then.",
    "Home medications include {drugdose} and {drugdose}.",
    "{He} has a history of {epon}, followed by {specialty}.",
    "No recent travel. No sick contacts.",
    "{He} quit smoking in {year} after a 20 pack-year history.",
    "Family history is notable for {epon} in a first-degree relative.",
    "{He} was recently seen in {genfac} and discharged on {drug}.",
    "Review of outside labs shows {labs}.",
    "{He} reports adherence to {drug} but missed several doses last month.",
    "{He} endorses poor sleep, decreased appetite and a {pain}/10 ache.",
    "Exam in {genfac} was notable for a positive {sign}.",
    "{He} uses a walker at home and had one fall this year without injury.",
    "{He} hopes to return to work and will follow up with {specialty}.",
    "{He} was born in {country} and moved to {state} as a child.",
]
PMH_ITEMS = DX + EPONYMS
EXAM_LINES = [
    "General: alert, oriented, no acute distress.", "HEENT: normocephalic, atraumatic, moist mucous membranes.",
    "Neck: supple, no JVD.", "CV: regular rate and rhythm, {murmur} murmur at the left sternal border.",
    "Lungs: clear to auscultation bilaterally, no wheezes.", "Lungs: crackles at both bases.",
    "Abd: soft, non-tender, non-distended, normal bowel sounds.", "Abd: tender in the RUQ, positive Murphy's sign.",
    "Ext: 2+ pitting edema to the mid shin bilaterally.", "Ext: no edema, pulses 2+ throughout.",
    "Neuro: CN II-XII intact, strength 5/5 in all extremities, negative Romberg.",
    "Neuro: resting tremor of the right hand, cogwheel rigidity, consistent with Parkinson's disease.",
    "Skin: warm and dry, no rashes.", "Psych: normal mood and affect.", "MSK: positive Tinel's sign at the right wrist.",
    "Neuro: GCS 15, no pronator drift, Babinski sign absent bilaterally.",
]
PLAN_LINES = [
    "Continue {drugdose}.", "Start {drugdose}.", "Hold {drug} until renal function improves.",
    "Check BMP and CBC in the morning.", "Repeat {lab} in 1 week.", "Refer to {specialty}.",
    "Order {proc}.", "Counseled on diet and exercise.", "Fall precautions, PT/OT evaluation.",
    "Increase {drug} to the next dose if BP remains above 140/90.", "Discussed goals of care; full code.",
    "Return precautions reviewed; go to the ED for worsening symptoms.", "Follow up in 3 months with repeat HbA1c.",
    "Taper prednisone over 2 weeks.", "Continue home oxygen at 2 L.", "Wound care daily with saline and dry dressing.",
]
PLAN_POS = [
    "Follow up with {drl} in 2 weeks.", "Follow up at {fac} on {fdate}.", "Discussed plan with {his} {rel} {famn} at {phone}.",
    "Records to be faxed to {fac2} at {fax}.", "Referred to {doc2} ({specialty}).", "Next infusion scheduled {fdate}.",
    "Home health referral sent; patient lives at {addr}.", "{Drl} to call the patient {ndate}.",
]
ROS_LINES = [
    "Constitutional: negative for fever, positive for fatigue.", "Eyes: no visual changes.",
    "Cardiovascular: denies chest pain, positive for orthopnea.", "Respiratory: positive for cough.",
    "GI: nausea without vomiting, no melena.", "GU: no dysuria or hematuria.", "MSK: morning joint stiffness.",
    "Neuro: intermittent numbness in the feet.", "Psych: low mood, PHQ-9 of 12.", "Heme: bruises easily on {drug}.",
    "Endo: polyuria and polydipsia.", "Skin: no rashes or new lesions.", "All other systems reviewed and negative.",
]
COUNSEL_LINES = [
    "Discussed the risks of {drug}, including bleeding.", "Reviewed the Beers criteria and deprescribing options.",
    "Smoking cessation counseling provided for 5 minutes.", "Advance directive discussed; a health care proxy is on file.",
    "Educated on a low sodium diet and daily weights.", "Flu vaccine given in clinic; VIS provided.",
    "Time spent: 35 minutes, over half in counseling and coordination of care.", "Interpreter used for the visit (Spanish).",
    "Medication reconciliation completed.", "Patient verbalized understanding using teach-back.",
    "Discussed {proc}; risks, benefits and alternatives reviewed.", "Glucose log reviewed; fasting values 110-160.",
]

SOCIAL_POS = [
    "Lives with {his} {rel} {famn} in {city}. Former {job}.",
    "Former {job}, lives alone in an apartment in {city}, {st}.",
    "Lives at {fulladdr} with {his} {rel}.",
    "Emergency contact: {famn} ({rel}), {phone}.",
    "Drives a pickup; plate {plate}. No recent travel outside {state}.",
    "Works as a {job} at {fac2}. Never smoker.",
]
SOCIAL_NEU = [
    "Former smoker, quit in {year}. Drinks 2-3 beers per week. No illicit drug use.",
    "Never smoker. No alcohol. Lives with family and is independent in ADLs.",
    "Worked as a {job}. Uses a walker at home. Has stairs to enter.",
    "Born in {country}; moved to {state} in {year}. Speaks Spanish and English.",
]


# --------------------------------------------------------------------------------------------------
# Document generators. Each returns a list of (text, label) pieces.
# --------------------------------------------------------------------------------------------------

CHAT_CONTEXT = [
    "{He} is on {drugdose}.", "BP {bp}, HR {hr}.", "labs: {labs}.", "hx of {dx}.", "PMH {dx}, {dx}.",
    "allergic to penicillin.", "{He} also has {epon}.", "recent {lab}.", "meds: {drugdose}, {drugdose}.",
    "{He} was diagnosed in {year}.", "vitals {vitals}.", "no known drug allergies.", "{He} had {proc} in {year}.",
]
CHAT_CONTEXT_NEG = [
    "{Ageok} {sexw}, hx {dx}.", "Context: {ageok} on {drugdose}.", "pt has {epon} and {dx}.",
    "eGFR {egfr}, {lab}.", "Vitals: {vitals}.", "Already on {drugdose}.", "{Ageok} from {state}, no allergies.",
    "I'm a PGY-2 in {specialty}.", "This is for a teaching case.", "Assume normal renal function.",
]
CHAT_SUFFIX = ["thanks", "keep it short", "bullet points please", "in plain english", "use APSO format",
               "be concise", "no jargon", "cite guidelines", "thx", "ty!"]


def gen_chat(c, neg):
    r = c.r
    pool = CHAT_NEG if neg else CHAT_POS
    last = None
    for _ in range(30):
        pieces = c.fill(r.choice(pool))
        if r.random() < 0.12:
            pieces = c.fill(r.choice(["hey, ", "quick q: ", "pls help - ", "Hi! ", "ok so ", "question: "])) + pieces
        if r.random() < 0.4:
            ctx = c.fill(r.choice(CHAT_CONTEXT_NEG if neg else CHAT_CONTEXT))
            pieces = (ctx + [T(" ")] + pieces) if (neg and r.random() < 0.6) else (pieces + [T(" ")] + ctx)
        if r.random() < 0.15:
            tail = pieces[-1][0].rstrip()
            sep = " " if tail.endswith(("?", ".", "!")) else r.choice([". ", " - ", ", "])
            pieces += [T(sep + r.choice(CHAT_SUFFIX))]
        n = sum(len(s.encode("utf-8")) for s, _ in pieces)
        last = pieces
        if 60 <= n <= 250:
            return pieces
        c._c.clear()
    return last


def sentences(c, pool, n, sep=" "):
    """n templates from pool, without repeats while the pool lasts."""
    out = []
    picks = c.r.sample(pool, min(n, len(pool)))
    picks += [c.r.choice(pool) for _ in range(n - len(picks))]
    for i, tpl in enumerate(picks):
        if i:
            out.append(T(sep))
        out.extend(c.fill(tpl))
    return out


def gen_message(c, neg):
    r = c.r
    out = []
    style = r.choice(["pt", "pt", "pt", "staff", "staff", "staff", "internal", "internal", "sms", "sms", "alert"])
    if neg and style == "alert":
        style = "staff"
    if neg:
        if style in ("pt", "sms", "internal"):
            out += [T(r.choice(["Subject: question about my medication\n\n", "Subject: Lab results\n\n",
                                "", "RE: follow up\n\n"]))]
            out += [T(r.choice(["Hi,\n\n", "Hello,\n\n", "Good morning,\n\n", "hi there\n", ""]))]
            out += sentences(c, MSG_NEG_PT, r.randint(2, 5))
            out += [T(r.choice(["\n\nThank you!", "\n\nThanks", "\n\nSent from my iPhone", ""]))]
        else:
            out += [T(r.choice(["Hello,\n\n", "Hi,\n\n", "Dear patient,\n\n"]))]
            out += sentences(c, MSG_NEG_STAFF, r.randint(2, 5))
            out += [T(r.choice(["\n\n- Your care team", "\n\nThe clinic nursing staff", "\n\nRegards,\nNurse triage line"]))]
        return out
    if style == "pt":
        if r.random() < 0.5:
            out += [T("From: ")] + c.s_ptn() + [T(" <")] + c.s_email() + [T(">\n")]
            out += [T("Sent: ")] + c.s_vdate() + [T(r.choice([" 3:42 PM", " 08:15", " 11:02 AM"]) + "\n")]
            out += [T("To: ")] + c.s_drl() + [T("\n")]
        out += [T("Subject: " + r.choice(["refill", "question", "test results", "Appointment", "forms",
                                          "feeling worse", "insurance"]) + "\n\n")]
        out += [T(r.choice(["Hi ", "Hello ", "Dear ", "Good morning "]))] + c.s_drl() + [T(",\n\n")]
        out += sentences(c, MSG_PT_POS + MSG_NEG_PT, r.randint(2, 6))
        out += [T(r.choice(["\n\nThanks,\n", "\n\nThank you,\n", "\n\nBest,\n", "\n\n"]))] + c.s_pt()
        if r.random() < 0.4:
            out += [T(r.choice(["\nDOB ", "\nDOB: ", "\nbirthday "]))] + c.s_dob()
        if r.random() < 0.3:
            out += [T("\n")] + c.s_phone()
        if r.random() < 0.2:
            out += [T("\n\nSent from my iPhone")]
    elif style == "staff":
        out += [T(r.choice(["Hi ", "Hello ", "Dear "]))] + r.choice([c.s_ptf, c.s_ptl, c.s_ptn])() + [T(",\n\n")]
        out += sentences(c, MSG_STAFF_POS + MSG_NEG_STAFF, r.randint(2, 5))
        out += [T("\n\n")] + c.s_nurse() + [T("\n")] + c.s_fac()
        if r.random() < 0.6:
            out += [T("\nPhone: ")] + c.s_ophone() + [T(r.choice([" | Fax: ", "\nFax: ", "  F: "]))] + c.s_fax()
    elif style == "internal":
        out += [T("To: ")] + c.s_dr() + [T("\nFrom: ")] + c.s_nurse()
        opener, closer = r.choice([(" (MRN ", ")"), (" MRN: ", ""), (" - MRN ", ""), (" (", ")")])
        out += [T("\nRe: ")] + c.s_ptlf() + [T(opener)] + c.s_mrn() + [T(closer + "\n\n")]
        out += c.fill(r.choice([
            "Pt called at {ophone} reporting {complaint} since {rdate}. ",
            "{Ptf}'s {rel} called asking for a refill of {drug}. ",
            "Pt requesting callback re: {lab} result. Best number {phone}. ",
            "Received fax from {fac2} re: admission {date}. ",
        ]))
        out += sentences(c, HPI_NEU + PLAN_LINES, r.randint(1, 3))
        out += [T(r.choice(["\nPlease advise.", "\nRouting to you for review.", "\nThanks!"]))]
    elif style == "alert":
        out += c.fill(r.choice([
            "Security notice\n\nA new sign-in to the patient portal account for {ptn} was detected from IP address {ip} on {vdate}. ",
            "Automated message: portal account {email} ({ptn}) logged in from {ip}. ",
        ]))
        out += c.fill("If this was not you, call us at {ophone} or visit {url}.")
    else:  # sms / triage line
        out += c.fill(r.choice([
            "pt {ptn} dob {dob} called, cb # {phone}. pt states: ",
            "VM from {ptn} ({mrn}) - ",
            "text from {ptf} {ptlast}: ",
            "{ptlf} called {rdate} - ",
            "triage call: {ptn}, callback {phone}. says: ",
        ]))
        out += sentences(c, MSG_NEG_PT + MSG_PT_POS, r.randint(1, 3))
    return out


def gen_header(c, ntype):
    r = c.r
    upper = r.random() < 0.15
    lines = []

    def line(label, pieces):
        lab = label.upper() if upper else label
        lines.append([T(lab)] + (upper_pieces(pieces) if upper else pieces))

    line(r.choice(["Patient: ", "Patient Name: ", "Name: ", "Pt: "]), c.s_pt() if r.random() < 0.4 else c.s_ptlf())
    line(r.choice(["DOB: ", "Date of Birth: ", "D.O.B.: ", "DOB "]), c.s_dob())
    if r.random() < 0.4:
        if r.random() < 0.5:
            line("Age: ", c.phi(str(c.age), "AGE") if c.age >= 90 else [T(str(c.age))])
        else:
            line("Age/Sex: ", c.s_agesex())
    if r.random() < 0.3:
        line("Sex: ", [T(c.r.choice(["Male", "M"]) if c.sex == "M" else c.r.choice(["Female", "F"]))])
    line(r.choice(["MRN: ", "MRN# ", "Med Rec #: ", "Medical Record Number: ", "Patient ID: ", "MR#: "]), c.s_mrn())
    if r.random() < 0.4:
        line(r.choice(["Acct #: ", "Account No.: ", "FIN: ", "Account: "]), c.s_acct())
    if r.random() < 0.25:
        line(r.choice(["CSN: ", "Encounter #: "]), c.s_csn())
    if ntype in ("Discharge Summary", "History and Physical"):
        line(r.choice(["Admission Date: ", "Date of Admission: ", "Admitted: "]), c.s_adate())
        if ntype == "Discharge Summary":
            line(r.choice(["Discharge Date: ", "Date of Discharge: "]), c.s_ddate())
    else:
        line(r.choice(["Date of Service: ", "DOS: ", "Visit Date: ", "Date: "]), c.s_vdate())
    line(r.choice(["Attending: ", "Provider: ", "Attending Physician: ", "Author: "]), c.s_drsig() if r.random() < 0.6 else c.s_dr())
    if r.random() < 0.5:
        line(r.choice(["PCP: ", "Primary Care: ", "Referring: "]), c.s_doc2())
    line(r.choice(["Facility: ", "Location: ", "Site: "]), c.s_fac() + [T(r.choice(["", ", 4 West", " - ICU", ", Bed 12"]))])
    if r.random() < 0.45:
        line("Address: ", c.s_fulladdr())
    if r.random() < 0.4:
        line(r.choice(["Phone: ", "Home phone: ", "Tel: ", "Cell: "]), c.s_phone())
    if r.random() < 0.3:
        rel, _ = c.fam()
        line("Emergency Contact: ", c.s_famn() + [T(f" ({rel}) ")] + c.s_cell())
    if r.random() < 0.4:
        parts = [T(c.s_payer()[0][0] + r.choice(["  Member ID: ", ", ID# ", " | Policy #: ", "; subscriber ID "]))] + c.s_hpid()
        if r.random() < 0.5:
            parts += [T(r.choice(["  Group #: ", ", Group ", " | Grp: "]))] + c.s_grp()
        line(r.choice(["Insurance: ", "Primary Insurance: ", "Payer: "]), parts)
    if r.random() < 0.12:
        line(r.choice(["SSN: ", "SS#: ", "Social Security #: "]), c.s_ssn())
    if r.random() < 0.04:
        line(r.choice(["Check-in: palm vein ID ", "Biometric ID: ", "Fingerprint template: "]), c.s_bio())
    if r.random() < 0.05:
        line("Remote monitor: ", [T("hub serial ")] + c.s_dev() + [T(", gateway IP ")] + c.s_ip())
    if r.random() < 0.05:
        line("Pacemaker: ", [T(r.choice(["Medtronic Azure", "Boston Scientific Accolade", "Abbott Assurity"]) + ", serial ")] + c.s_dev())
    out = []
    for ln in lines:
        out += ln + [T("\n")]
    return out


NOTE_TYPES = ["Progress Note", "SOAP Note", "APSO Note", "History and Physical", "Discharge Summary",
              "Emergency Department Note", "Consultation Note", "Telephone Encounter", "Clinic Note"]


def section(title, body, r):
    sty = r.choice(["{}:\n", "{}:\n", "{}\n", "{}: ", "## {}\n"])
    return [T("\n" + sty.format(title.upper() if r.random() < 0.35 else title))] + body + [T("\n")]


def list_block(c, items, bullet=None):
    r = c.r
    b = bullet or r.choice(["- ", "* ", "", "• "])
    out = []
    for i, it in enumerate(items):
        prefix = f"{i + 1}. " if b == "" else b
        out.append(T(prefix))
        out.extend(c.fill(it) if isinstance(it, str) else it)
        out.append(T("\n"))
    return out


def pieces_len(pieces):
    return sum(len(s.encode("utf-8")) for s, _ in pieces)


def gen_note(c, neg):
    r = c.r
    ntype = r.choice(NOTE_TYPES)
    target = r.choice([r.randint(1000, 2500), r.randint(1500, 4000), r.randint(1000, 6000)])
    out = [T(ntype.upper() + "\n" if r.random() < 0.5 else ntype + "\n")]
    if not neg:
        out += gen_header(c, ntype)
    else:
        out += c.fill(r.choice([
            "Setting: {genfac}\nAge/Sex: {ageok} {sexw}\n",
            "Teaching case - identifiers removed\nAge: {agenum}\nSex: {sexw}\n",
            "Template: {complaint}\n",
            "Specialty: {specialty}\nVisit type: follow-up\n",
        ]))
    hpi_pool = HPI_NEU if neg else HPI_NEU + HPI_POS + HPI_POS
    soc_pool = SOCIAL_NEU if neg else SOCIAL_NEU + SOCIAL_POS
    plan_pool = PLAN_LINES if neg else PLAN_LINES * 2 + PLAN_POS
    cc = c.fill(r.choice(["{complaint}", "{complaint} x {dur}", "f/u {dx}", "\"{complaint}\""]))
    sections = []
    sections.append(("Chief Complaint", cc))
    sections.append(("HPI" if r.random() < 0.6 else "History of Present Illness", sentences(c, hpi_pool, r.randint(3, 7))))
    sections.append(("PMH" if r.random() < 0.5 else "Past Medical History",
                     list_block(c, [[T(x)] for x in r.sample(PMH_ITEMS, r.randint(2, 6))])))
    sections.append(("Medications", list_block(c, ["{drugdose}"] * r.randint(2, 8))))
    sections.append(("Allergies", [T(r.choice(["NKDA", "Penicillin (hives)", "Sulfa - rash", "No known drug allergies",
                                               "Codeine (nausea), latex"]))]))
    sections.append(("Social History", sentences(c, soc_pool, r.randint(1, 3))))
    sections.append(("Vitals", c.s_vitals()))
    exam = []
    for x in r.sample(EXAM_LINES, r.randint(3, 8)):
        exam += c.fill(x) + [T("\n")]
    sections.append(("Exam" if r.random() < 0.5 else "Physical Exam", exam))
    labs_head = [] if neg or r.random() < 0.5 else c.fill(r.choice(["Labs {date}: ", "Labs ({pdate}): ", "Labs drawn {rdate}: "]))
    sections.append(("Labs", labs_head + c.s_labs() + [T("\n")] + c.s_labs()))
    ap = []
    numbering = r.choice(["# ", "", "Problem {}: ", "{}) ", "{}. "])
    for i in range(r.randint(2, 5)):
        ap += [T(numbering.replace("{}", str(i + 1)) if "{}" in numbering else numbering)] + c.s_dx() + [T("\n")]
        ap += list_block(c, [r.choice(plan_pool) for _ in range(r.randint(1, 3))], bullet="- ")
    ap_title = r.choice(["Assessment and Plan", "A/P", "Assessment/Plan", "Plan"])
    if ntype == "APSO Note":  # APSO puts assessment and plan first
        sections.insert(0, (ap_title, ap))
    else:
        sections.append((ap_title, ap))
    if ntype == "Discharge Summary":
        sections.insert(2, ("Hospital Course", sentences(c, hpi_pool + PLAN_LINES, r.randint(3, 8))))
    for title, body in sections:
        if pieces_len(out) > target and title not in ("Chief Complaint", "HPI", "History of Present Illness", ap_title):
            continue
        out += section(title, body, r)
    # pad toward the target length with more narrative
    guard = 0
    pads = [("Review of Systems", ROS_LINES, "\n"), ("Counseling", COUNSEL_LINES, " "),
            ("Interval History", hpi_pool, " "), ("Care Coordination", PLAN_LINES + COUNSEL_LINES, " "),
            ("Additional Notes", hpi_pool + COUNSEL_LINES, " "), ("Nursing Communication", PLAN_LINES + ROS_LINES, " ")]
    r.shuffle(pads)
    while pieces_len(out) < target and guard < 12:
        title, pool, sep = pads[guard % len(pads)]
        guard += 1
        add = section(title if guard <= len(pads) else title + " (cont.)", sentences(c, pool, r.randint(3, 7), sep), r)
        if pieces_len(out) + pieces_len(add) > 6000:
            break
        out += add
    if not neg:
        out += c.fill(r.choice([
            "\nElectronically signed by {drsig} on {vdate} at 14:32",
            "\nSigned: {drsig}\nNPI: {npi}",
            "\n{drsig}\n{fac}\nPhone {ophone} | Fax {fax}",
            "\nDictated by {drsig}. Transcribed by {staff}.",
            "\nSeen and examined with {doc2}. I agree with the plan above.\n{drsig}",
        ]))
    else:
        out += [T(r.choice(["\nAttending attestation on file.", "\nSigned electronically.", "\n-- end of note --", ""]))]
    return out


def dictation_say_date(c, d, dob=False):
    r = c.r
    m = MONTHS[d.month - 1].lower()
    x = r.random()
    if x < 0.45:
        return f"{m} {ordinal_words(d.day)} {year_words(d.year, r)}"
    if x < 0.6:
        return f"{m} {words(d.day)} {year_words(d.year, r)}"
    if x < 0.75:
        return f"the {ordinal_words(d.day)} of {m} {year_words(d.year, r)}"
    if x < 0.85 and not dob:
        return f"{m} {ordinal_words(d.day)}"
    return f"{d.month}/{d.day}/{d.year}"


DICT_BODY = [
    "{he} presents with {complaint} for {dur}",
    "{he} denies fevers chills or night sweats",
    "past medical history significant for {dx} comma {dx} and {epon}",
    "current medications include {drugdose} and {drugdose}",
    "on exam blood pressure {bps} heart rate {hrs} oxygen saturation {spo2s} percent on room air",
    "lungs are clear to auscultation bilaterally heart regular rate and rhythm",
    "assessment and plan number one {dx} continue {drug} number two {dx} refer to {specialty}",
    "labs show sodium {nas} potassium {ks}",
    "{he} quit smoking in {year}",
    "new paragraph plan is to increase {drug} and recheck in three months",
    "strength is five out of five in all extremities reflexes two plus",
    "{he} had a positive {sign} on exam",
    "we discussed the risks and benefits and {he} agrees with the plan",
]
DICT_POS = [
    "{his} {rel} {famn} was present for the visit",
    "{he} was seen at {fac2} on {dsay} for {dx}",
    "follow up with doctor {drlast} in two weeks",
    "{he} lives in {city} with {his} {rel}",
    "please send a copy to doctor {doc2last} at {fac2}",
    "{he} can be reached at {phonesay}",
    "{ptf} reports the symptoms started {rdate}",
    "{he} is a {agesay} {sexw}",
]


class DictCtx(Ctx):
    """Slots that speak numbers the way a dictating clinician would."""

    def s_dsay(self):
        return self.phi(dictation_say_date(self, self.near(-300, 0)), "DATE")

    def s_dobsay(self):
        return self.phi(dictation_say_date(self, self.dob, dob=True), "DATE")

    def s_vdatesay(self):
        return self.phi(dictation_say_date(self, self.visit, dob=True), "DATE")

    def s_mrnsay(self):
        raw = self.s_mrn()[0][0]
        digits = re.sub(r"\D", "", raw)
        return self.phi(digit_words(digits, self.r) if self.r.random() < 0.6 else raw, "MRN")

    def s_phonesay(self):
        raw = self.s_phone()[0][0]
        if self.r.random() < 0.6:
            digits = re.sub(r"\D", "", raw.split(" ext")[0].split(" x")[0])[-10:]
            return self.phi(digit_words(digits, self.r), "PHONE")
        return self.phi(raw, "PHONE")

    def s_agesay(self):
        a = self.age
        if self.r.random() < 0.7:
            s = spoken_number(a, self.r) + self.r.choice([" year old", " year old", " years old"])
        else:
            s = str(a) + self.r.choice([" year old", "-year-old", " year-old"])
        return self.phi(s, "AGE") if a >= 90 else [T(s)]

    def s_ptspell(self):
        letters = [ch for ch in strip_accents(self.pt.last).lower() if ch.isalpha()]
        return self.phi(" ".join(letters), "NAME")

    def s_bps(self):
        return [T(f"{spoken_number(self.r.randint(95, 180), self.r)} over {words(self.r.randint(55, 105))}")]

    def s_hrs(self):
        return [T(spoken_number(self.r.randint(50, 125), self.r))]

    def s_spo2s(self):
        return [T(words(self.r.randint(88, 100)))]

    def s_nas(self):
        return [T(spoken_number(self.r.randint(125, 148), self.r))]

    def s_ks(self):
        k = self.r.randint(30, 59)
        return [T(f"{words(k // 10)} point {words(k % 10)}")]


def gen_dictation(c, neg):
    r = c.r
    out = []
    if neg:
        out += c.fill(r.choice([
            "this is a dictation for a follow up visit ",
            "dictating the {specialty} consult ",
            "begin dictation ",
        ]))
        out += c.fill("the patient is a {age} {sexw} ")
        pool = DICT_BODY
    else:
        out += c.fill(r.choice([
            "this is doctor {drlast} dictating the {specialty} note on {ptn} date of birth {dobsay} medical record number {mrnsay} ",
            "dictation for {ptn} last name spelled {ptspell} ",
            "this is {drsig} dictating on patient {ptn} date of service {vdatesay} ",
            "patient name {ptlf} m r n {mrnsay} date of birth {dobsay} ",
            "dr {drlast} here dictating for {ptn} who is a {agesay} {sexw} seen at {fac} ",
        ]))
        pool = DICT_BODY + DICT_POS
    n = r.randint(4, 14)
    for _ in range(n):
        out += c.fill(r.choice(pool))
        out += [T(r.choice([" ", " ", " period ", " period ", " new paragraph ", " next line "]))]
    out += [T(r.choice(["end of dictation", "end dictation thank you", "thank you", "that's all"]))]
    # dictation is lower case with few punctuation marks
    low = []
    for s, lab in out:
        s = s.lower()
        if lab is None:
            s = re.sub(r"[,:;]|\.(?=\s|$)", "", s)
        low.append((s, lab))
    return low


LETTER_BODY_NEU = [
    "{He} has a history of {dx} and {epon}, currently managed with {drugdose}.",
    "Recent labs showed {labs}.",
    "On examination, {vitals}.",
    "I would appreciate your evaluation and recommendations regarding {complaint}.",
    "{He} has tried {drug} and {drug2} without adequate response.",
    "This medication is medically necessary because alternatives are contraindicated due to {dx}.",
    "Please do not hesitate to contact our office with any questions.",
    "{He} is able to return to work without restrictions.",
]
LETTER_BODY_POS = [
    "I am writing to refer {ptn}, a {age} {sexw} whom I have followed since {pdate}, for evaluation of {complaint}.",
    "{Ptl} was hospitalized at {fac2} from {date} to {fdate}.",
    "{His} {rel} {famn} can be reached at {cell}.",
    "{He} was last seen in our office on {vdate}.",
    "Imaging performed at {fac2} on {date} is enclosed.",
    "{Ptl} has been a patient of this practice since {pdate}.",
    "The member ID is {hpid} and the claim number is {claim}.",
]


def gen_letter(c, neg):
    r = c.r
    out = []

    if neg:
        out += [T(r.choice(["To Whom It May Concern:\n\n", "Dear Patient,\n\n", "Dear Colleague,\n\n"]))]
        out += sentences(c, LETTER_BODY_NEU + MSG_NEG_STAFF, r.randint(3, 7))
        out += [T(r.choice(["\n\nSincerely,\nThe Medical Staff", "\n\nRegards,\nClinic Administration",
                            "\n\nThank you for your attention to this matter."]))]
        return out
    # letterhead
    out += c.s_fac() + [T("\n")]
    if r.random() < 0.8:
        out += c.s_addr2() + [T("\n")] + c.s_city2() + [T(", " + r.choice(STATE_ABBR) + " ")] + c.phi(c.zip_str(), "LOCATION") + [T("\n")]
    if r.random() < 0.7:
        out += [T("Phone: ")] + c.s_ophone() + [T(r.choice(["   Fax: ", " | Fax ", "\nFax: "]))] + c.s_fax() + [T("\n")]
    if r.random() < 0.3:
        out += c.s_url() + [T("\n")]
    out += [T("\n")] + c.s_vdate() + [T("\n\n")]
    kind = r.choice(["referral", "prior_auth", "work", "records"])
    if kind in ("referral", "records"):
        out += c.s_doc2() + [T("\n")] + c.s_fac2() + [T("\n\n")]
    elif kind == "prior_auth":
        out += [T(c.s_payer()[0][0] + " Utilization Management\n\n")]
    out += [T("RE: ")] + c.s_pt() + [T(r.choice(["\nDOB: ", "  DOB ", ", DOB: "]))] + c.s_dob()
    if r.random() < 0.6:
        out += [T(r.choice(["\nMRN: ", "  MRN ", "\nMedical record number: "]))] + c.s_mrn()
    if kind == "prior_auth":
        out += [T("\nMember ID: ")] + c.s_hpid()
    out += [T("\n\n")]
    if kind == "referral" or kind == "records":
        out += [T("Dear ")] + c.s_doc2() + [T(",\n\n")]
    else:
        out += [T(r.choice(["To Whom It May Concern:\n\n", "Dear Reviewer,\n\n"]))]
    body = sentences(c, LETTER_BODY_POS + LETTER_BODY_NEU, r.randint(3, 7))
    out += body
    out += [T(r.choice(["\n\nSincerely,\n\n", "\n\nBest regards,\n\n", "\n\nRespectfully,\n\n"]))] + c.s_drsig()
    out += [T("\n")] + c.fill(r.choice(["{specialty}", "NPI {npi}", "NPI: {npi} | DEA: {dea}", "License #{lic}", "{dremail}"]))
    return out


GENERATORS = {
    "chat": gen_chat, "message": gen_message, "note": gen_note, "dictation": gen_dictation, "letter": gen_letter,
}

# --------------------------------------------------------------------------------------------------
# Rendering: lower-casing, typos, byte offsets, validation
# --------------------------------------------------------------------------------------------------

WORD_RE = re.compile(r"[A-Za-z]{5,}")
KEYBOARD = {
    "a": "qs", "b": "vn", "c": "xv", "d": "sf", "e": "wr", "f": "dg", "g": "fh", "h": "gj", "i": "uo", "j": "hk",
    "k": "jl", "l": "k", "m": "n", "n": "bm", "o": "ip", "p": "o", "q": "w", "r": "et", "s": "ad", "t": "ry",
    "u": "yi", "v": "cb", "w": "qe", "x": "zc", "y": "tu", "z": "x",
}


def typo(word, r):
    i = r.randint(1, len(word) - 2)
    op = r.randint(0, 3)
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2:]
    if op == 1:
        return word[:i] + word[i + 1:]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    ch = word[i]
    rep = r.choice(KEYBOARD.get(ch.lower(), ch))
    return word[:i] + (rep.upper() if ch.isupper() else rep) + word[i + 1:]


def render(pieces, r, lower=False, typo_rate=0.0):
    chunks, spans, pos = [], [], 0
    for s, lab in pieces:
        if not s:
            continue
        if lower:
            s = s.lower()
        if lab is None and typo_rate:
            s = WORD_RE.sub(lambda m: typo(m.group(0), r) if r.random() < typo_rate else m.group(0), s)
        b = len(s.encode("utf-8"))
        if lab is not None:
            if spans and spans[-1][1] == pos and spans[-1][2] == lab:
                raise AssertionError("adjacent spans with the same label: %r" % s)
            spans.append((pos, pos + b, lab))
        chunks.append(s)
        pos += b
    return "".join(chunks), spans


def validate(text, spans):
    raw = text.encode("utf-8")
    prev_end = -1
    for start, end, lab in spans:
        assert lab in LABELS, lab
        assert 0 <= start < end <= len(raw), (start, end)
        assert start >= prev_end, "overlap"
        for off in (start, end):
            assert off == len(raw) or (raw[off] & 0xC0) != 0x80, "not on a char boundary"
        frag = raw[start:end].decode("utf-8")
        assert frag.strip() == frag and frag, repr(frag)
        prev_end = end


def make_doc(seed, idx, kind, pools):
    r = random.Random(f"ward-phi-gold:{seed}:{idx}:{kind}")
    neg = kind.startswith("negative-")
    base = kind[len("negative-"):] if neg else kind
    for attempt in range(5):
        c = (DictCtx if base == "dictation" else Ctx)(r, pools, neg)
        pieces = GENERATORS[base](c, neg)
        lower = base == "dictation" or (base == "chat" and r.random() < 0.45) or (base == "message" and r.random() < 0.1)
        typo_rate = 0.0
        if r.random() < (0.15 if base in ("chat", "message") else 0.08):
            typo_rate = r.choice([0.03, 0.06, 0.1])
        text, spans = render(pieces, r, lower, typo_rate)
        if neg or spans:
            break
    validate(text, spans)
    assert not neg or not spans
    return {"id": f"doc-{idx:06d}", "kind": kind, "text": text,
            "spans": [{"start": s, "end": e, "label": l} for s, e, l in spans]}


def kind_schedule(count, rng):
    raw = [(k, count * share / 100.0) for k, share in KIND_SHARES]
    counts = {k: int(v) for k, v in raw}
    rest = count - sum(counts.values())
    for k, v in sorted(raw, key=lambda kv: (-(kv[1] - int(kv[1])), kv[0]))[:rest]:
        counts[k] += 1
    kinds = [k for k, _ in KIND_SHARES for _ in range(counts[k])]
    rng.shuffle(kinds)
    return kinds


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--count", type=int, default=2000)
    ap.add_argument("--out", help="output JSONL path (default: stdout)")
    args = ap.parse_args(argv)
    pools = Pools(args.seed)
    kinds = kind_schedule(args.count, random.Random(f"ward-phi-kinds:{args.seed}:{args.count}"))
    lines = []
    for i, kind in enumerate(kinds, start=1):
        doc = make_doc(args.seed, i, kind, pools)
        lines.append(json.dumps(doc, ensure_ascii=False))
    data = ("\n".join(lines) + ("\n" if lines else "")).encode("utf-8")
    if args.out:
        with open(args.out, "wb") as f:
            f.write(data)
    else:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
