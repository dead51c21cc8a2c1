//go:build ignore

// Command gen_corpus writes corpus.json, the labelled corpus of person
// record pairs that evaluates fedmatch's person matching: pairs that are
// the same person written differently by agencies of two countries, and
// pairs of different people, many of them hard negatives.
//
// Run it from the repository root:
//
//	go run match/person/testdata/gen_corpus.go
//
// It is deterministic (fixed seed, no map iteration on any output path):
// every run writes the same bytes. It uses no code of this repository, on
// purpose: the corpus must not depend on the code it evaluates. Every
// writing of a name comes from the hand-written tables below; the
// generator only chooses among them, drops middle names, inserts the
// typing slips a clerk makes, and lays the parts out as agencies do.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
	"time"
	"unicode"
)

const (
	seedHi  = 0x6665646d61746368 // "fedmatch"
	seedLo  = 9                  // issue 9
	outPath = "match/person/testdata/corpus.json"

	nHardSurnameYear = 400
	nHardNamesakeDOB = 300
	nHardNamesakeYr  = 300
	nHardSiblings    = 400
	nRandom          = 1900
)

// ---------------------------------------------------------------------------
// Name tables. One name a line, fields separated by '|'.
//
// Cyrillic origins: native|ICAO 9303|BGN/PCGN|German (Duden)|French|common...
//   (Ukrainian: the second field is the national system of 2010 used in
//   Ukrainian passports, close to ICAO; Belarusian: the form in Belarusian
//   passports; the common fields of Belarusian names are the Russian forms
//   many foreign lists use.) BGN/PCGN apostrophes for ь are left out, as
//   agencies leave them out.
// Greek: native|ELOT 743 (passports)|other common writings...
// Arabic, Hebrew: native|Latin writings..., the most common first; a '*'
//   marks a French-style Maghreb writing.
// Latin-script origins: the name as its owner writes it|other writings
//   agencies use (diacritics folded as ICAO 9303 allows, particles
//   capitalised or joined).
// Surnames: "male;female" when the female form differs. Russian-type
//   surnames in -ов/-ев/-ин take the female -а by rule (see femaleOf).
// ---------------------------------------------------------------------------

const ruMale = `
Александр|Aleksandr|Aleksandr|Alexander|Alexandre|Alexander|Aleksander
Алексей|Aleksei|Aleksey|Alexei|Alexeï|Alexey|Alexej
Андрей|Andrei|Andrey|Andrei|Andreï|Andrej
Дмитрий|Dmitrii|Dmitriy|Dmitri|Dmitri|Dmitry
Сергей|Sergei|Sergey|Sergei|Sergueï|Sergej|Sergey
Иван|Ivan|Ivan|Iwan|Ivan|Ivan
Михаил|Mikhail|Mikhail|Michail|Mikhaïl|Mikhail|Michail
Николай|Nikolai|Nikolay|Nikolai|Nikolaï|Nikolaj|Nikolay
Владимир|Vladimir|Vladimir|Wladimir|Vladimir|Vladimir
Юрий|Iurii|Yuriy|Juri|Iouri|Yuri|Jurij
Евгений|Evgenii|Yevgeniy|Jewgeni|Evgueni|Yevgeny|Evgeny
Павел|Pavel|Pavel|Pawel|Pavel|Pavel
Олег|Oleg|Oleg|Oleg|Oleg|Oleg
Игорь|Igor|Igor|Igor|Igor|Igor
Виктор|Viktor|Viktor|Viktor|Viktor|Victor
Артём|Artem|Artem|Artjom|Artiom|Artyom
Максим|Maksim|Maksim|Maxim|Maxim|Maxim
Григорий|Grigorii|Grigoriy|Grigori|Grigori|Grigory
Фёдор|Fedor|Fedor|Fjodor|Fiodor|Fyodor
Вячеслав|Viacheslav|Vyacheslav|Wjatscheslaw|Viatcheslav|Vyacheslav
Станислав|Stanislav|Stanislav|Stanislaw|Stanislav|Stanislav
Илья|Ilia|Ilya|Ilja|Ilia|Ilya
Тимур|Timur|Timur|Timur|Timour|Timur
Георгий|Georgii|Georgiy|Georgi|Gueorgui|Georgy
Валерий|Valerii|Valeriy|Waleri|Valeri|Valery
Анатолий|Anatolii|Anatoliy|Anatoli|Anatoli|Anatoly
Борис|Boris|Boris|Boris|Boris|Boris
Кирилл|Kirill|Kirill|Kirill|Kirill|Kirill
`

const ruFemale = `
Анна|Anna|Anna|Anna|Anna|Anna
Елена|Elena|Yelena|Jelena|Elena|Yelena
Ольга|Olga|Olga|Olga|Olga|Olga
Наталья|Natalia|Natalya|Natalja|Natalia|Natalya
Татьяна|Tatiana|Tatyana|Tatjana|Tatiana|Tatyana
Ирина|Irina|Irina|Irina|Irina|Irina
Светлана|Svetlana|Svetlana|Swetlana|Svetlana|Svetlana
Екатерина|Ekaterina|Yekaterina|Jekaterina|Ekaterina|Yekaterina
Мария|Mariia|Mariya|Marija|Maria|Maria
Юлия|Iuliia|Yuliya|Julija|Ioulia|Yulia
Ксения|Kseniia|Kseniya|Xenija|Xenia|Ksenia
Людмила|Liudmila|Lyudmila|Ljudmila|Lioudmila|Lyudmila
Галина|Galina|Galina|Galina|Galina|Galina
Дарья|Daria|Darya|Darja|Daria|Darya
Анастасия|Anastasiia|Anastasiya|Anastasija|Anastasia|Anastasia
Вера|Vera|Vera|Wera|Vera|Vera
Евгения|Evgeniia|Yevgeniya|Jewgenija|Evguenia|Yevgenia
Алёна|Alena|Alena|Aljona|Aliona|Alyona
Полина|Polina|Polina|Polina|Polina|Polina
Виктория|Viktoriia|Viktoriya|Viktorija|Viktoria|Victoria
`

const ruSurnames = `
Иванов|Ivanov|Ivanov|Iwanow|Ivanov|Ivanov
Смирнов|Smirnov|Smirnov|Smirnow|Smirnov|Smirnov
Кузнецов|Kuznetsov|Kuznetsov|Kusnezow|Kouznetsov|Kuznetsov
Попов|Popov|Popov|Popow|Popov|Popov
Соколов|Sokolov|Sokolov|Sokolow|Sokolov|Sokolov
Лебедев|Lebedev|Lebedev|Lebedew|Lebedev|Lebedev
Козлов|Kozlov|Kozlov|Koslow|Kozlov|Kozlov
Новиков|Novikov|Novikov|Nowikow|Novikov|Novikov
Морозов|Morozov|Morozov|Morosow|Morozov|Morozov
Петров|Petrov|Petrov|Petrow|Petrov|Petrov
Волков|Volkov|Volkov|Wolkow|Volkov|Volkov
Соловьёв|Solovev|Solovyev|Solowjow|Soloviov|Solovyov
Васильев|Vasilev|Vasilyev|Wassiljew|Vassiliev|Vasilyev
Зайцев|Zaitsev|Zaytsev|Saizew|Zaïtsev|Zaitsev
Павлов|Pavlov|Pavlov|Pawlow|Pavlov|Pavlov
Семёнов|Semenov|Semenov|Semjonow|Semionov|Semyonov
Голубев|Golubev|Golubev|Golubew|Goloubev|Golubev
Виноградов|Vinogradov|Vinogradov|Winogradow|Vinogradov|Vinogradov
Богданов|Bogdanov|Bogdanov|Bogdanow|Bogdanov|Bogdanov
Воробьёв|Vorobev|Vorobyev|Worobjow|Vorobiov|Vorobyov
Фёдоров|Fedorov|Fedorov|Fjodorow|Fiodorov|Fyodorov
Михайлов|Mikhailov|Mikhaylov|Michailow|Mikhaïlov|Mikhailov
Беляев|Beliaev|Belyayev|Beljajew|Beliaev|Belyaev
Тарасов|Tarasov|Tarasov|Tarassow|Tarassov|Tarasov
Белов|Belov|Belov|Below|Belov|Belov
Комаров|Komarov|Komarov|Komarow|Komarov|Komarov
Орлов|Orlov|Orlov|Orlow|Orlov|Orlov
Киселёв|Kiselev|Kiselev|Kisseljow|Kisseliov|Kiselyov
Макаров|Makarov|Makarov|Makarow|Makarov|Makarov
Андреев|Andreev|Andreyev|Andrejew|Andreïev|Andreyev
Ковалёв|Kovalev|Kovalev|Kowaljow|Kovaliov|Kovalyov
Ильин|Ilin|Ilin|Iljin|Iline|Ilyin
Гусев|Gusev|Gusev|Gussew|Goussev|Gusev
Титов|Titov|Titov|Titow|Titov|Titov
Кудрявцев|Kudriavtsev|Kudryavtsev|Kudrjawzew|Koudriavtsev|Kudryavtsev
Баранов|Baranov|Baranov|Baranow|Baranov|Baranov
Куликов|Kulikov|Kulikov|Kulikow|Koulikov|Kulikov
Алексеев|Alekseev|Alekseyev|Alexejew|Alexeïev|Alekseev
Степанов|Stepanov|Stepanov|Stepanow|Stepanov|Stepanov
Яковлев|Iakovlev|Yakovlev|Jakowlew|Iakovlev|Yakovlev
Сорокин|Sorokin|Sorokin|Sorokin|Sorokine|Sorokin
Сергеев|Sergeev|Sergeyev|Sergejew|Sergueïev|Sergeyev
Романов|Romanov|Romanov|Romanow|Romanov|Romanov
Захаров|Zakharov|Zakharov|Sacharow|Zakharov|Zakharov
Борисов|Borisov|Borisov|Borissow|Borissov|Borisov
Королёв|Korolev|Korolev|Koroljow|Koroliov|Korolyov
Жуков|Zhukov|Zhukov|Schukow|Joukov|Zhukov
Щербаков|Shcherbakov|Shcherbakov|Schtscherbakow|Chtcherbakov|Shcherbakov
Чернов|Chernov|Chernov|Tschernow|Tchernov|Chernov
Никитин|Nikitin|Nikitin|Nikitin|Nikitine|Nikitin
Вишневский|Vishnevskii|Vishnevskiy|Wischnewski|Vichnevski|Vishnevsky;Вишневская|Vishnevskaia|Vishnevskaya|Wischnewskaja|Vichnevskaïa|Vishnevskaya
Успенский|Uspenskii|Uspenskiy|Uspenski|Ouspenski|Uspensky;Успенская|Uspenskaia|Uspenskaya|Uspenskaja|Ouspenskaïa|Uspenskaya
`

const ruPatronymics = `
Александрович|Aleksandrovich|Aleksandrovich|Alexandrowitsch|Aleksandrovitch|Alexandrovich;Александровна|Aleksandrovna|Aleksandrovna|Alexandrowna|Aleksandrovna|Alexandrovna
Сергеевич|Sergeevich|Sergeyevich|Sergejewitsch|Sergueïevitch|Sergeyevich;Сергеевна|Sergeevna|Sergeyevna|Sergejewna|Sergueïevna|Sergeyevna
Иванович|Ivanovich|Ivanovich|Iwanowitsch|Ivanovitch|Ivanovich;Ивановна|Ivanovna|Ivanovna|Iwanowna|Ivanovna|Ivanovna
Владимирович|Vladimirovich|Vladimirovich|Wladimirowitsch|Vladimirovitch|Vladimirovich;Владимировна|Vladimirovna|Vladimirovna|Wladimirowna|Vladimirovna|Vladimirovna
Николаевич|Nikolaevich|Nikolayevich|Nikolajewitsch|Nikolaïevitch|Nikolayevich;Николаевна|Nikolaevna|Nikolayevna|Nikolajewna|Nikolaïevna|Nikolayevna
Михайлович|Mikhailovich|Mikhaylovich|Michailowitsch|Mikhaïlovitch|Mikhailovich;Михайловна|Mikhailovna|Mikhaylovna|Michailowna|Mikhaïlovna|Mikhailovna
Петрович|Petrovich|Petrovich|Petrowitsch|Petrovitch|Petrovich;Петровна|Petrovna|Petrovna|Petrowna|Petrovna|Petrovna
Юрьевич|Iurevich|Yuryevich|Jurjewitsch|Iourievitch|Yuryevich;Юрьевна|Iurevna|Yuryevna|Jurjewna|Iourievna|Yuryevna
Викторович|Viktorovich|Viktorovich|Viktorowitsch|Viktorovitch|Viktorovich;Викторовна|Viktorovna|Viktorovna|Viktorowna|Viktorovna|Viktorovna
Андреевич|Andreevich|Andreyevich|Andrejewitsch|Andreïevitch|Andreyevich;Андреевна|Andreevna|Andreyevna|Andrejewna|Andreïevna|Andreyevna
Алексеевич|Alekseevich|Alekseyevich|Alexejewitsch|Alexeïevitch|Alekseyevich;Алексеевна|Alekseevna|Alekseyevna|Alexejewna|Alexeïevna|Alekseyevna
`

const uaMale = `
Олександр|Oleksandr|Oleksandr|Oleksandr|Oleksandr|Oleksandr|Olexandr
Андрій|Andrii|Andriy|Andrij|Andriï|Andriy
Володимир|Volodymyr|Volodymyr|Wolodymyr|Volodymyr|Volodymyr
Сергій|Serhii|Serhiy|Serhij|Serhiï|Serhiy
Юрій|Yurii|Yuriy|Jurij|Iouri|Yuriy
Дмитро|Dmytro|Dmytro|Dmytro|Dmytro|Dmytro
Олег|Oleh|Oleh|Oleh|Oleh|Oleh|Oleg
Михайло|Mykhailo|Mykhaylo|Mychajlo|Mykhaïlo|Mykhailo
Тарас|Taras|Taras|Taras|Taras|Taras
Богдан|Bohdan|Bohdan|Bohdan|Bohdan|Bohdan|Bogdan
Василь|Vasyl|Vasyl|Wassyl|Vassyl|Vasyl
Іван|Ivan|Ivan|Iwan|Ivan|Ivan
Віталій|Vitalii|Vitaliy|Witalij|Vitali|Vitaliy
Євген|Yevhen|Yevhen|Jewhen|Ievhen|Yevhen
Петро|Petro|Petro|Petro|Petro|Petro
Микола|Mykola|Mykola|Mykola|Mykola|Mykola
Ярослав|Yaroslav|Yaroslav|Jaroslaw|Iaroslav|Yaroslav
`

const uaFemale = `
Олена|Olena|Olena|Olena|Olena|Olena
Оксана|Oksana|Oksana|Oksana|Oksana|Oksana
Наталія|Nataliia|Nataliya|Natalija|Natalia|Natalia
Юлія|Yuliia|Yuliya|Julija|Ioulia|Yulia
Тетяна|Tetiana|Tetyana|Tetjana|Tetiana|Tetyana
Ірина|Iryna|Iryna|Iryna|Iryna|Iryna
Світлана|Svitlana|Svitlana|Switlana|Svitlana|Svitlana
Марія|Mariia|Mariya|Marija|Maria|Maria
Катерина|Kateryna|Kateryna|Kateryna|Kateryna|Kateryna
Людмила|Liudmyla|Lyudmyla|Ljudmyla|Lioudmyla|Lyudmyla
Ганна|Hanna|Hanna|Hanna|Hanna|Hanna
Вікторія|Viktoriia|Viktoriya|Wiktorija|Viktoria|Viktoria
`

const uaSurnames = `
Шевченко|Shevchenko|Shevchenko|Schewtschenko|Chevtchenko|Shevchenko
Коваленко|Kovalenko|Kovalenko|Kowalenko|Kovalenko|Kovalenko
Бондаренко|Bondarenko|Bondarenko|Bondarenko|Bondarenko|Bondarenko
Ткаченко|Tkachenko|Tkachenko|Tkatschenko|Tkatchenko|Tkachenko
Кравченко|Kravchenko|Kravchenko|Krawtschenko|Kravtchenko|Kravchenko
Олійник|Oliinyk|Oliynyk|Olijnyk|Oliinyk|Oliynyk
Шевчук|Shevchuk|Shevchuk|Schewtschuk|Chevtchouk|Shevchuk
Коваль|Koval|Koval|Kowal|Koval|Koval
Поліщук|Polishchuk|Polishchuk|Polischtschuk|Polichtchouk|Polishchuk
Бойко|Boiko|Boyko|Bojko|Boiko|Boyko
Ткачук|Tkachuk|Tkachuk|Tkatschuk|Tkatchouk|Tkachuk
Мельник|Melnyk|Melnyk|Melnyk|Melnyk|Melnyk
Савченко|Savchenko|Savchenko|Sawtschenko|Savtchenko|Savchenko
Руденко|Rudenko|Rudenko|Rudenko|Roudenko|Rudenko
Гончаренко|Honcharenko|Honcharenko|Hontscharenko|Hontcharenko|Honcharenko|Goncharenko
Марченко|Marchenko|Marchenko|Martschenko|Martchenko|Marchenko
Лисенко|Lysenko|Lysenko|Lyssenko|Lyssenko|Lysenko
Мороз|Moroz|Moroz|Moros|Moroz|Moroz
Кравчук|Kravchuk|Kravchuk|Krawtschuk|Kravtchouk|Kravchuk
Левченко|Levchenko|Levchenko|Lewtschenko|Levtchenko|Levchenko
Гриценко|Hrytsenko|Hrytsenko|Hryzenko|Hrytsenko|Hrytsenko
Павленко|Pavlenko|Pavlenko|Pawlenko|Pavlenko|Pavlenko
Клименко|Klymenko|Klymenko|Klymenko|Klymenko|Klymenko
Петренко|Petrenko|Petrenko|Petrenko|Petrenko|Petrenko
Ковальський|Kovalskyi|Kovalskyy|Kowalskyj|Kovalsky|Kovalsky;Ковальська|Kovalska|Kovalska|Kowalska|Kovalska|Kovalska
`

const uaPatronymics = `
Олександрович|Oleksandrovych|Oleksandrovych|Oleksandrowytsch|Oleksandrovytch|Oleksandrovych;Олександрівна|Oleksandrivna|Oleksandrivna|Oleksandriwna|Oleksandrivna|Oleksandrivna
Володимирович|Volodymyrovych|Volodymyrovych|Wolodymyrowytsch|Volodymyrovytch|Volodymyrovych;Володимирівна|Volodymyrivna|Volodymyrivna|Wolodymyriwna|Volodymyrivna|Volodymyrivna
Іванович|Ivanovych|Ivanovych|Iwanowytsch|Ivanovytch|Ivanovych;Іванівна|Ivanivna|Ivanivna|Iwaniwna|Ivanivna|Ivanivna
Миколайович|Mykolaiovych|Mykolayovych|Mykolajowytsch|Mykolaïovytch|Mykolayovych;Миколаївна|Mykolaivna|Mykolayivna|Mykolajiwna|Mykolaïvna|Mykolayivna
Петрович|Petrovych|Petrovych|Petrowytsch|Petrovytch|Petrovych;Петрівна|Petrivna|Petrivna|Petriwna|Petrivna|Petrivna
`

const byMale = `
Аляксандр|Aliaksandr|Alyaksandr|Aljaksandr|Aliaksandr|Alexander|Aleksandr
Сяргей|Siarhei|Syarhey|Sjarhej|Siarhei|Sergei|Sergey
Дзмітрый|Dzmitry|Dzmitryy|Dsmitryj|Dzmitry|Dmitry|Dmitriy
Андрэй|Andrei|Andrey|Andrej|Andreï|Andrei
Уладзімір|Uladzimir|Uladzimir|Uladsimir|Uladzimir|Vladimir
Мікалай|Mikalai|Mikalay|Mikalaj|Mikalai|Nikolai
Віктар|Viktar|Viktar|Wiktar|Viktar|Viktor
Павел|Pavel|Pavel|Pawel|Pavel|Pavel
Ігар|Ihar|Ihar|Ihar|Ihar|Igor
`

const byFemale = `
Святлана|Sviatlana|Svyatlana|Swjatlana|Sviatlana|Svetlana
Вольга|Volha|Volha|Wolha|Volha|Olga
Марыя|Maryia|Maryya|Maryja|Maryia|Maria
Алена|Alena|Alena|Alena|Alena|Yelena|Elena
Наталля|Natallia|Natallya|Natallja|Natallia|Natalia|Natalya
Таццяна|Tatsiana|Tatsyana|Tazzjana|Tatsiana|Tatiana|Tatyana
`

const bySurnames = `
Кавалёў|Kavaliou|Kavalyow|Kawaljou|Kavaliou|Kovalev|Kovalyov;Кавалёва|Kavaliova|Kavalyova|Kawaljowa|Kavaliova|Kovaleva|Kovalyova
Марозаў|Marozau|Marozaw|Marosau|Marozau|Morozov;Марозава|Marozava|Marozava|Marosawa|Marozava|Morozova
Мельнікаў|Melnikau|Melnikaw|Melnikau|Melnikau|Melnikov;Мельнікава|Melnikava|Melnikava|Melnikawa|Melnikava|Melnikova
Сакалоў|Sakalou|Sakalow|Sakalou|Sakalou|Sokolov;Сакалова|Sakalova|Sakalova|Sakalowa|Sakalova|Sokolova
Казлоў|Kazlou|Kazlow|Kaslou|Kazlou|Kozlov;Казлова|Kazlova|Kazlova|Kaslowa|Kazlova|Kozlova
Васілеўскі|Vasileuski|Vasilewski|Wassileuski|Vasileuski|Vasilevsky;Васілеўская|Vasileuskaia|Vasilewskaya|Wassileuskaja|Vasileuskaia|Vasilevskaya
Шушкевіч|Shushkevich|Shushkevich|Schuschkewitsch|Shushkevich|Shushkevich
Радзевіч|Radzevich|Radzevich|Radsewitsch|Radzevich|Radzevich
Новік|Novik|Novik|Nowik|Novik|Novik
Жук|Zhuk|Zhuk|Schuk|Zhuk|Zhuk
Карпенка|Karpenka|Karpenka|Karpenka|Karpenka|Karpenko
`

const byPatronymics = `
Аляксандравіч|Aliaksandravich|Alyaksandravich|Aljaksandrawitsch|Aliaksandravich|Alexandrovich;Аляксандраўна|Aliaksandrauna|Alyaksandrawna|Aljaksandrauna|Aliaksandrauna|Alexandrovna
Уладзіміравіч|Uladzimiravich|Uladzimiravich|Uladsimirawitsch|Uladzimiravich|Vladimirovich;Уладзіміраўна|Uladzimirauna|Uladzimirawna|Uladsimirauna|Uladzimirauna|Vladimirovna
Мікалаевіч|Mikalaevich|Mikalayevich|Mikalajewitsch|Mikalaevich|Nikolayevich;Мікалаеўна|Mikalaeuna|Mikalayewna|Mikalajeuna|Mikalaeuna|Nikolayevna
Віктаравіч|Viktaravich|Viktaravich|Wiktarawitsch|Viktaravich|Viktorovich;Віктараўна|Viktarauna|Viktarawna|Wiktarauna|Viktarauna|Viktorovna
`

// Chechen and Dagestani names, written in Russian Cyrillic at home.
const caMale = `
Мухаммед|Mukhammed|Mukhammed|Muchammed|Moukhammed|Muhammad|Mohammed
Магомед|Magomed|Magomed|Magomed|Magomed|Magomed|Magomet
Рамзан|Ramzan|Ramzan|Ramsan|Ramzan|Ramzan
Ахмед|Akhmed|Akhmed|Achmed|Akhmed|Ahmed
Шамиль|Shamil|Shamil|Schamil|Chamil|Shamil
Руслан|Ruslan|Ruslan|Ruslan|Rouslan|Ruslan
Ислам|Islam|Islam|Islam|Islam|Islam
Умар|Umar|Umar|Umar|Oumar|Umar
Хасан|Khasan|Khasan|Chasan|Khassan|Hasan|Khasan
Хусейн|Khusein|Khuseyn|Chussein|Khoussein|Husein|Khuseyn
Абдулла|Abdulla|Abdulla|Abdulla|Abdoulla|Abdullah
Ибрагим|Ibragim|Ibragim|Ibragim|Ibraguim|Ibragim|Ibrahim
Юсуп|Iusup|Yusup|Jussup|Ioussoup|Yusup
Абубакар|Abubakar|Abubakar|Abubakar|Aboubakar|Abubakar
Зелимхан|Zelimkhan|Zelimkhan|Selimchan|Zelimkhan|Zelimkhan
Адам|Adam|Adam|Adam|Adam|Adam
Мурад|Murad|Murad|Murad|Mourad|Murad
Алихан|Alikhan|Alikhan|Alichan|Alikhan|Alikhan
`

const caFemale = `
Фатима|Fatima|Fatima|Fatima|Fatima|Fatima
Патимат|Patimat|Patimat|Patimat|Patimat|Patimat
Марьям|Mariam|Maryam|Marjam|Mariam|Maryam
Хадижат|Khadizhat|Khadizhat|Chadischat|Khadijat|Khadizhat
Зарема|Zarema|Zarema|Sarema|Zarema|Zarema
Аминат|Aminat|Aminat|Aminat|Aminat|Aminat
Луиза|Luiza|Luiza|Luisa|Louiza|Luiza
Мадина|Madina|Madina|Madina|Madina|Madina
`

const caSurnames = `
Абдуллаев|Abdullaev|Abdullayev|Abdullajew|Abdoullaev|Abdullayev|Abdullaev
Магомедов|Magomedov|Magomedov|Magomedow|Magomedov|Magomedov
Алиев|Aliev|Aliyev|Alijew|Aliev|Aliyev
Гаджиев|Gadzhiev|Gadzhiyev|Gadschijew|Gadjiev|Gadzhiev
Умаров|Umarov|Umarov|Umarow|Oumarov|Umarov
Исаев|Isaev|Isayev|Issajew|Issaev|Isaev
Курбанов|Kurbanov|Kurbanov|Kurbanow|Kourbanov|Kurbanov
Рамазанов|Ramazanov|Ramazanov|Ramasanow|Ramazanov|Ramazanov
Ибрагимов|Ibragimov|Ibragimov|Ibragimow|Ibraguimov|Ibragimov
Муртазалиев|Murtazaliev|Murtazaliyev|Murtasalijew|Mourtazaliev|Murtazaliev
Хасанов|Khasanov|Khasanov|Chasanow|Khassanov|Khasanov
Юсупов|Iusupov|Yusupov|Jussupow|Ioussoupov|Yusupov
Мусаев|Musaev|Musayev|Mussajew|Moussaev|Musayev
Саидов|Saidov|Saidov|Saidow|Saïdov|Saidov
Джабраилов|Dzhabrailov|Dzhabrailov|Dschabrailow|Djabraïlov|Dzhabrailov
Ахмадов|Akhmadov|Akhmadov|Achmadow|Akhmadov|Akhmadov
`

const caPatronymics = `
Магомедович|Magomedovich|Magomedovich|Magomedowitsch|Magomedovitch|Magomedovich;Магомедовна|Magomedovna|Magomedovna|Magomedowna|Magomedovna|Magomedovna
Ахмедович|Akhmedovich|Akhmedovich|Achmedowitsch|Akhmedovitch|Akhmedovich;Ахмедовна|Akhmedovna|Akhmedovna|Achmedowna|Akhmedovna|Akhmedovna
Умарович|Umarovich|Umarovich|Umarowitsch|Oumarovitch|Umarovich;Умаровна|Umarovna|Umarovna|Umarowna|Oumarovna|Umarovna
Русланович|Ruslanovich|Ruslanovich|Ruslanowitsch|Rouslanovitch|Ruslanovich;Руслановна|Ruslanovna|Ruslanovna|Ruslanowna|Rouslanovna|Ruslanovna
Шамилевич|Shamilevich|Shamilevich|Schamilewitsch|Chamilevitch|Shamilevich;Шамилевна|Shamilevna|Shamilevna|Schamilewna|Chamilevna|Shamilevna
`

const grMale = `
Γεώργιος|Georgios|Yiorgos|Giorgos
Δημήτριος|Dimitrios|Dimitris|Demetrios
Ιωάννης|Ioannis|Yannis|Giannis
Κωνσταντίνος|Konstantinos|Constantinos|Kostas
Νικόλαος|Nikolaos|Nikolas|Nikos
Παναγιώτης|Panagiotis|Panayiotis|Panayotis
Χρήστος|Christos|Hristos|Khristos
Βασίλειος|Vasileios|Vasilios|Vassilios|Vasilis
Αθανάσιος|Athanasios|Athanassios|Thanasis
Ευάγγελος|Evangelos|Evaggelos|Vangelis
Μιχαήλ|Michail|Michael|Mihail
Σπυρίδων|Spyridon|Spiridon|Spyros
Αντώνιος|Antonios|Andonios|Antonis
Θεόδωρος|Theodoros|Thodoros
Ελευθέριος|Eleftherios|Eleutherios|Lefteris
Στυλιανός|Stylianos|Stilianos|Stelios
Αλέξανδρος|Alexandros|Aleksandros
Εμμανουήλ|Emmanouil|Emmanuel|Manolis
`

const grFemale = `
Μαρία|Maria
Ελένη|Eleni
Αικατερίνη|Aikaterini|Ekaterini|Katerina
Βασιλική|Vasiliki|Vassiliki
Σοφία|Sofia|Sophia
Αναστασία|Anastasia
Ευαγγελία|Evangelia|Evaggelia
Γεωργία|Georgia|Yeorgia
Δήμητρα|Dimitra|Demetra
Ιωάννα|Ioanna
Χριστίνα|Christina|Hristina
Παρασκευή|Paraskevi
Αγγελική|Angeliki|Aggeliki
Ειρήνη|Eirini|Irini
`

const grSurnames = `
Παπαδόπουλος|Papadopoulos|Papadopulos;Παπαδοπούλου|Papadopoulou
Παπαδάκης|Papadakis;Παπαδάκη|Papadaki
Παπαγεωργίου|Papageorgiou|Papayeorgiou
Νικολάου|Nikolaou|Nicolaou
Γεωργίου|Georgiou|Yeorgiou|Georghiou
Οικονόμου|Oikonomou|Economou|Ikonomou
Βασιλείου|Vasileiou|Vassiliou|Vasiliou
Ιωάννου|Ioannou
Κωνσταντινίδης|Konstantinidis|Constantinides;Κωνσταντινίδου|Konstantinidou|Constantinidou
Δημητρίου|Dimitriou|Demetriou
Αντωνίου|Antoniou|Andoniou
Μακρής|Makris|Macris;Μακρή|Makri
Αλεξίου|Alexiou|Aleksiou
Καραγιάννης|Karagiannis|Karayannis|Karayiannis;Καραγιάννη|Karagianni|Karayianni
Λαμπράκης|Lamprakis|Lambrakis;Λαμπράκη|Lampraki|Lambraki
Χατζηδάκης|Chatzidakis|Hatzidakis|Hadjidakis;Χατζηδάκη|Chatzidaki|Hatzidaki
Αθανασίου|Athanasiou|Athanassiou
Πετρόπουλος|Petropoulos|Petropulos;Πετροπούλου|Petropoulou
Κυριακίδης|Kyriakidis|Kiriakidis|Kyriakides;Κυριακίδου|Kyriakidou|Kiriakidou
Σταυρόπουλος|Stavropoulos|Stavropulos;Σταυροπούλου|Stavropoulou
`

const arMale = `
محمد|Mohammed|Muhammad|Mohamed|Mohammad|Mohamad|Muhammed
أحمد|Ahmed|Ahmad
علي|Ali
حسين|Hussein|Husayn|Hussain|Husain|*Houssein
حسن|Hassan|Hasan
يوسف|Youssef|Yousef|Yusuf|Yousif|*Youcef
عبد الله|Abdullah|Abdallah|Abd Allah|Abdulla|*Abdellah
عبد الرحمن|Abdulrahman|Abdul Rahman|Abd al-Rahman|Abdelrahman|Abdul-Rahman|*Abderrahmane
خالد|Khaled|Khalid
عمر|Omar|Umar
إبراهيم|Ibrahim|Ebrahim|*Brahim
مصطفى|Mustafa|Moustafa|Mostafa|*Mustapha
سعيد|Saeed|Said|Saied|*Saïd
كريم|Karim|Kareem
طارق|Tariq|Tarek|Tareq
ياسين|Yassin|Yasin|Yaseen|*Yacine|*Yassine
سليمان|Suleiman|Sulaiman|Soliman|*Slimane
فيصل|Faisal|Faysal|*Fayçal|*Faycal
عبد القادر|Abdulkader|Abdul Qadir|Abd al-Qadir|Abdel Kader|*Abdelkader
جمال|Jamal|Gamal|*Djamel
`

const arFemale = `
فاطمة|Fatima|Fatma|Fatimah|Fatema
عائشة|Aisha|Aysha|Aishah|*Aicha
مريم|Maryam|Mariam|*Meriem
زينب|Zainab|Zeinab|Zaynab
خديجة|Khadija|Khadijah|*Khadidja
نور|Nour|Noor|Nur
ليلى|Layla|Leila|Laila|*Leïla
سارة|Sara|Sarah
أمينة|Amina|Aminah|Ameena
هدى|Huda|Houda|Hoda
ياسمين|Yasmin|Yasmine|Yasmeen
رنا|Rana
`

const arLevant = `
الخطيب|Al-Khatib|Al Khatib|Alkhatib|El Khatib|Khatib
الحلبي|Al-Halabi|Al Halabi|Halabi|El Halabi
حداد|Haddad|Hadad
خوري|Khoury|Khouri|Khuri
النجار|Al-Najjar|Al Najjar|Najjar|El Najjar
المصري|Al-Masri|Al Masri|Masri|El Masri
الشامي|Al-Shami|Al Shami|Shami|Chami
الأحمد|Al-Ahmad|Al Ahmad|Alahmad|Al-Ahmed
العلي|Al-Ali|Al Ali|Alali
حمدان|Hamdan
`

const arGulf = `
الهاشمي|Al-Hashimi|Al Hashimi|Alhashimi|Al-Hashemi
القحطاني|Al-Qahtani|Al Qahtani|Alqahtani|Al-Kahtani
الغامدي|Al-Ghamdi|Al Ghamdi|Alghamdi
الشمري|Al-Shammari|Al Shammari|Alshammari|Al-Shamari
العتيبي|Al-Otaibi|Al Otaibi|Alotaibi|Al-Utaybi
المنصوري|Al-Mansouri|Al Mansoori|Almansoori|Al-Mansuri
الكعبي|Al-Kaabi|Al Kaabi|Alkaabi
بن صالح|Bin Saleh|Bin-Saleh|Bin Salih|Binsaleh
بن محفوظ|Bin Mahfouz|Bin-Mahfouz|Bin Mahfooz
الدوسري|Al-Dosari|Al Dosari|Aldosari|Al-Dossary|Al-Dawsari
`

const arMaghreb = `
بن علي|Ben Ali|Benali|Ben-Ali
العلوي|El Alaoui|Alaoui|El-Alaoui|Al-Alawi
بن يوسف|Ben Youssef|Benyoussef|Ben Yousef|Benyoucef
الإدريسي|El Idrissi|Idrissi|El-Idrissi|Al-Idrisi
بلقاسم|Belkacem|Belkassem|Belqasim
الشريف|Cherif|Chérif|El Cherif|Al-Sharif
التازي|Tazi|El Tazi|Al-Tazi
حمادي|Hammadi|Hamadi
`

const arIraq = `
البغدادي|Al-Baghdadi|Al Baghdadi|Albaghdadi|Baghdadi
الجبوري|Al-Jubouri|Al Jubouri|Al-Jabouri|Aljuboori|Al-Jubury
الدليمي|Al-Dulaimi|Al Dulaimi|Aldulaimi|Al-Dulaymi
التميمي|Al-Tamimi|Al Tamimi|Altamimi|Al-Tameemi
العبيدي|Al-Obaidi|Al Obaidi|Alobaidi|Al-Ubaidi|Al-Obeidi
الساعدي|Al-Saadi|Al Saadi|Alsaadi|As-Saadi
الحسيني|Al-Husseini|Al Husseini|Alhusseini|Al-Husaini
الربيعي|Al-Rubaie|Al Rubaie|Alrubaie|Al-Rubaiy
`

const heMale = `
דוד|David
יוסף|Yosef|Yossef|Joseph|Josef
משה|Moshe|Moshé|Mosche
אברהם|Avraham|Abraham
יצחק|Yitzhak|Itzhak|Yitzchak
יעקב|Yaakov|Yaacov|Jacob|Yakov
שלמה|Shlomo|Schlomo
חיים|Haim|Chaim|Hayim
אליהו|Eliyahu|Eliahu
שמואל|Shmuel|Shmouel|Samuel
יהודה|Yehuda|Yehudah|Jehuda
אריאל|Ariel
צבי|Zvi|Tzvi|Tsvi
נועם|Noam
איתן|Eitan|Etan|Eytan
אבי|Avi
עמית|Amit
`

const heFemale = `
שרה|Sara|Sarah
רחל|Rachel|Rahel
רבקה|Rivka|Rivkah
לאה|Lea|Leah
מרים|Miriam|Myriam
תמר|Tamar
נועה|Noa
יעל|Yael|Jael|Yaël
שירה|Shira
אסתר|Ester|Esther
חנה|Hana|Hanna|Chana|Hannah
מיכל|Michal|Mikhal
`

const heSurnames = `
כהן|Cohen|Kohen
לוי|Levi|Levy|Lévy
מזרחי|Mizrahi|Mizrachi
פרץ|Peretz|Perets|Perez
ביטון|Biton|Bitton
דהן|Dahan
אברהם|Avraham|Abraham
פרידמן|Friedman|Fridman|Friedmann
שפירא|Shapira|Shapiro|Schapira
גולדברג|Goldberg
רוזנברג|Rosenberg|Rozenberg
כץ|Katz|Kats
אזולאי|Azoulay|Azulay|Azoulai
אוחיון|Ohayon|Ohayoun|Ohion
חדד|Hadad|Haddad
גבאי|Gabay|Gabai|Gabbai
אשכנזי|Ashkenazi|Ashkenazy
יוסף|Yosef|Yossef|Joseph
בן דוד|Ben David|Ben-David|Bendavid
שלום|Shalom
ויס|Weiss|Weis
קליין|Klein
רבינוביץ|Rabinovich|Rabinovitz|Rabinowitz|Rabinovitch
ברק|Barak
אלון|Alon
`

const deMale = `
Hans
Hans-Peter|Hans Peter
Karl-Heinz|Karl Heinz
Jürgen|Juergen|Jurgen
Klaus
Wolfgang
Günter|Guenter|Gunter
Thomas
Michael
Andreas
Matthias
Jörg|Joerg|Jorg
Uwe
Dieter
Frank
Markus
Bernd
Ralf
Sebastian
Tobias
Lukas
Björn|Bjoern|Bjorn
Sören|Soeren|Soren
Florian
Moritz
`

const deFemale = `
Ursula
Sabine
Petra
Monika
Brigitte
Gisela
Karin
Renate
Birgit
Andrea
Katrin
Jutta
Bärbel|Baerbel|Barbel
Anna-Lena|Anna Lena
Hannelore
Anke
Ute
Susanne
Jana
Lena
Käthe|Kaethe|Kathe
Heike
Silke
Dörte|Doerte|Dorte
`

const deSurnames = `
Müller|Mueller|Muller
Schmidt
Schneider
Fischer
Weber
Meyer
Wagner
Becker
Schulz
Hoffmann
Schäfer|Schaefer|Schafer
Koch
Bauer
Richter
Klein
Wolf
Schröder|Schroeder|Schroder
Neumann
Schwarz
Zimmermann
Braun
Krüger|Krueger|Kruger
Hartmann
Lange
Werner
Krause
Lehmann
Köhler|Koehler|Kohler
Weiß|Weiss
Groß|Gross
Jäger|Jaeger|Jager
Fuchs
Vogel
Böhm|Boehm|Bohm
Günther|Guenther|Gunther
Meißner|Meissner
Dürr|Duerr|Durr
von Bülow|von Buelow|Von Bülow|Von Buelow|von Bulow
von der Heide|Von der Heide|Von Der Heide
`

const nlMale = `
Jan
Pieter
Willem
Hendrik
Johannes
Cornelis
Gerrit
Dirk
Kees
Bram
Sander
Joost
Maarten
Thijs
Daan
Ruud
Jan-Willem|Jan Willem
Sjoerd
`

const nlFemale = `
Anna
Maria
Johanna
Cornelia
Sanne
Femke
Anouk
Lieke
Marieke
Ingrid
Els
Wilma
Anne-Marie|Anne Marie
Zoë|Zoe
Chloë|Chloe
Ineke
`

const nlSurnames = `
de Jong|De Jong
Jansen
de Vries|De Vries
van den Berg|Van den Berg|Van Den Berg|Vandenberg
van Dijk|Van Dijk
Bakker
Janssen
Visser
Smit
Meijer
de Boer|De Boer
Mulder
de Groot|De Groot
Bos
Vos
Peters
Hendriks
van Leeuwen|Van Leeuwen
Dekker
Brouwer
de Wit|De Wit
Dijkstra
Smits
de Graaf|De Graaf
van der Meer|Van der Meer|Van Der Meer|Vandermeer
van der Linden|Van der Linden|Van Der Linden
Kok
Jacobs
de Haan|De Haan
Vermeulen
van den Heuvel|Van den Heuvel|Van Den Heuvel
van der Veen|Van der Veen|Van Der Veen
van den Broek|Van den Broek|Van Den Broek
`

const frMale = `
Jean
Pierre
Jean-Pierre|Jean Pierre
Jean-Claude|Jean Claude
François|Francois
Michel
Philippe
Alain
Nicolas
Stéphane|Stephane
Sébastien|Sebastien
Frédéric|Frederic
Jérôme|Jerome
Benoît|Benoit
Loïc|Loic
Gaël|Gael
Thierry
Olivier
Christophe
Rémi|Remi
Hervé|Herve
Éric|Eric
`

const frFemale = `
Marie
Anne-Marie|Anne Marie
Hélène|Helene
Céline|Celine
Élodie|Elodie
Nathalie
Isabelle
Sophie
Chloé|Chloe
Léa|Lea
Zoé|Zoe
Amélie|Amelie
Françoise|Francoise
Aurélie|Aurelie
Valérie|Valerie
Cécile|Cecile
Noémie|Noemie
Marie-Claire|Marie Claire
Émilie|Emilie
Anaïs|Anais
`

const frSurnames = `
Martin
Bernard
Dubois
Thomas
Robert
Richard
Petit
Durand
Leroy
Moreau
Simon
Laurent
Lefèvre|Lefevre
Michel
David
Bertrand
Roux
Vincent
Fournier
Morel
Girard
André|Andre
Mercier
Dupont
Lambert
Bonnet
François|Francois
Legrand
Garnier
Faure
Rousseau
Blanc
Guérin|Guerin
Chevalier
Gauthier
Perrin
Clément|Clement
Lemaître|Lemaitre
Hébert|Hebert
Ménard|Menard
de Villiers|De Villiers|Devilliers
de la Rue|De la Rue|De La Rue|Delarue
Le Roux|Leroux
Le Gall|Legall
Saint-Martin|Saint Martin
`

const enMale = `
John
James
Robert
Michael
William
David
Richard
Joseph
Thomas
Christopher
Daniel
Matthew
Anthony
Mark
Paul
Steven
Andrew
Kenneth
George
Edward
Brian
Kevin
Peter
Patrick
Seán|Sean
`

const enFemale = `
Mary
Patricia
Jennifer
Linda
Elizabeth
Barbara
Susan
Jessica
Sarah
Karen
Nancy
Lisa
Margaret
Emily
Emma
Rebecca
Laura
Helen
Claire
Fiona
Siobhán|Siobhan
Mary-Jane|Mary Jane
`

const enSurnames = `
Smith
Johnson
Williams
Brown
Jones
Miller
Davis
Wilson
Anderson
Taylor
Thomas
Moore
Jackson
Martin
Lee
Thompson
White
Harris
Clark
Lewis
Robinson
Walker
Young
Allen
Wright
Scott
Hill
Green
Adams
Baker
Nelson
Mitchell
Campbell
Roberts
Carter
Phillips
Evans
Turner
Parker
Collins
Edwards
Stewart
Morris
Murphy
Cook
Rogers
O'Brien|OBrien|O Brien
O'Connor|OConnor|O Connor
O'Neill|ONeill|O Neill
McDonald|Mc Donald
Smith-Jones|Smith Jones
`

const esMale = `
José|Jose
Juan
Antonio
Francisco
Manuel
Javier
Miguel Ángel|Miguel Angel
José Luis|Jose Luis
Juan Carlos
Carlos
Jesús|Jesus
Alejandro
Rafael
Pedro
Ángel|Angel
Fernando
Sergio
Raúl|Raul
Andrés|Andres
Joaquín|Joaquin
Álvaro|Alvaro
Iñigo|Inigo
`

const esFemale = `
María|Maria
Carmen
Ana
Isabel
Laura
Cristina
Marta
Lucía|Lucia
Dolores
Pilar
Rocío|Rocio
Inés|Ines
Begoña|Begona
Sofía|Sofia
María José|Maria Jose
Ana Belén|Ana Belen
María del Carmen|Maria del Carmen|María Del Carmen
`

const esSurnames = `
García|Garcia
López|Lopez
Martínez|Martinez
González|Gonzalez
Rodríguez|Rodriguez
Fernández|Fernandez
Sánchez|Sanchez
Pérez|Perez
Gómez|Gomez
Martín|Martin
Jiménez|Jimenez
Ruiz
Hernández|Hernandez
Díaz|Diaz
Moreno
Muñoz|Munoz
Álvarez|Alvarez
Romero
Navarro
Torres
Domínguez|Dominguez
Vázquez|Vazquez
Ramos
Gil
Ramírez|Ramirez
Serrano
Blanco
Molina
Castro
Ortiz
Rubio
Núñez|Nunez
Suárez|Suarez
Ibáñez|Ibanez
de la Cruz|De la Cruz|De La Cruz
`

const plMale = `
Łukasz|Lukasz
Piotr
Krzysztof
Andrzej
Tomasz
Paweł|Pawel
Michał|Michal
Marcin
Grzegorz
Jakub
Wojciech
Mariusz
Stanisław|Stanislaw
Józef|Jozef
Mateusz
Rafał|Rafal
Zbigniew
Jarosław|Jaroslaw
Przemysław|Przemyslaw
`

const plFemale = `
Anna
Małgorzata|Malgorzata
Agnieszka
Katarzyna
Barbara
Ewa
Joanna
Magdalena
Zofia
Krystyna
Elżbieta|Elzbieta
Dorota
Beata
Jadwiga
Aleksandra
Urszula
Bożena|Bozena
Grażyna|Grazyna
`

const plSurnames = `
Nowak
Kowalski;Kowalska
Wiśniewski|Wisniewski;Wiśniewska|Wisniewska
Wójcik|Wojcik
Kowalczyk
Kamiński|Kaminski;Kamińska|Kaminska
Lewandowski;Lewandowska
Zieliński|Zielinski;Zielińska|Zielinska
Szymański|Szymanski;Szymańska|Szymanska
Woźniak|Wozniak
Dąbrowski|Dabrowski;Dąbrowska|Dabrowska
Kozłowski|Kozlowski;Kozłowska|Kozlowska
Jankowski;Jankowska
Mazur
Kwiatkowski;Kwiatkowska
Krawczyk
Piotrowski;Piotrowska
Grabowski;Grabowska
Pawłowski|Pawlowski;Pawłowska|Pawlowska
Michalski;Michalska
Wróbel|Wrobel
Wieczorek
Jabłoński|Jablonski;Jabłońska|Jablonska
Król|Krol
Majewski;Majewska
Stępień|Stepien
Górski|Gorski;Górska|Gorska
Sikora
Szewczyk
Wróblewski|Wroblewski;Wróblewska|Wroblewska
Walczak
`

const trMale = `
Mehmet
Mustafa
Ahmet
Ali
Hüseyin|Huseyin|Hueseyin
Hasan
İbrahim|Ibrahim
İsmail|Ismail
Osman
Yusuf
Murat
Ömer|Omer|Oemer
Ramazan
Halil
Süleyman|Suleyman|Sueleyman
Abdullah
Mahmut
Recep
Fatih
Emre
Burak
Uğur|Ugur
Kemal
Gökhan|Gokhan|Goekhan
Serkan
`

const trFemale = `
Fatma
Ayşe|Ayse
Emine
Hatice
Zeynep
Elif
Meryem
Şerife|Serife
Zehra
Hanife
Merve
Özlem|Ozlem|Oezlem
Esra
Gül|Gul|Guel
Büşra|Busra|Buesra
Yasemin
Derya
Songül|Songul|Songuel
Sevgi
Dilek
`

const trSurnames = `
Yılmaz|Yilmaz
Kaya
Demir
Şahin|Sahin
Çelik|Celik
Yıldız|Yildiz
Yıldırım|Yildirim
Öztürk|Ozturk|Oeztuerk
Aydın|Aydin
Özdemir|Ozdemir|Oezdemir
Arslan
Doğan|Dogan
Kılıç|Kilic
Aslan
Çetin|Cetin
Kara
Koç|Koc
Kurt
Özkan|Ozkan|Oezkan
Şimşek|Simsek
Polat
Korkmaz
Karataş|Karatas
Güneş|Gunes|Guenes
Erdoğan|Erdogan
Aktaş|Aktas
Yavuz
Keskin
Bulut
Tekin
Ünal|Unal|Uenal
Güler|Guler|Gueler
`

// ---------------------------------------------------------------------------
// Countries and agencies.
// ---------------------------------------------------------------------------

var alpha2 = map[string]string{
	"RUS": "RU", "UKR": "UA", "BLR": "BY", "GRC": "GR", "CYP": "CY", "SYR": "SY",
	"LBN": "LB", "JOR": "JO", "PSE": "PS", "SAU": "SA", "ARE": "AE", "KWT": "KW",
	"QAT": "QA", "BHR": "BH", "OMN": "OM", "MAR": "MA", "DZA": "DZ", "TUN": "TN",
	"LBY": "LY", "IRQ": "IQ", "ISR": "IL", "DEU": "DE", "AUT": "AT", "CHE": "CH",
	"NLD": "NL", "BEL": "BE", "FRA": "FR", "LUX": "LU", "ESP": "ES", "MEX": "MX",
	"ARG": "AR", "COL": "CO", "POL": "PL", "TUR": "TR", "GBR": "GB", "USA": "US",
	"IRL": "IE", "AUS": "AU", "CAN": "CA", "NZL": "NZ", "ITA": "IT", "SWE": "SE",
	"CZE": "CZ", "FIN": "FI", "NOR": "NO", "DNK": "DK", "LTU": "LT", "LVA": "LV",
	"EST": "EE",
}

// Agencies that write a Cyrillic name in each system.
var (
	agICAO   = []string{"NLD", "ITA", "ESP", "SWE", "POL", "CZE", "FIN", "NOR", "DNK", "LTU", "LVA", "EST"}
	agBGN    = []string{"GBR", "USA", "CAN", "AUS", "NZL"}
	agDE     = []string{"DEU", "AUT", "CHE"}
	agFR     = []string{"FRA", "BEL", "LUX", "CHE"}
	agWest   = []string{"USA", "GBR", "FRA", "DEU", "NLD", "BEL", "ITA", "ESP", "SWE", "CAN", "AUS", "CHE", "AUT", "POL", "DNK", "NOR", "IRL"}
	agFrench = []string{"FRA", "BEL", "CHE", "CAN", "LUX"}
)

// ---------------------------------------------------------------------------
// Model.
// ---------------------------------------------------------------------------

type entry struct {
	nat string
	lat []string
	mag []bool // lat[i] is a French-style Maghreb writing
}

type sname struct{ m, f *entry }

func (s sname) form(sex string) *entry {
	if sex == "F" && s.f != nil {
		return s.f
	}
	return s.m
}

type origin struct {
	key, group, script string
	nats               []string
	male, female       []*entry
	sur                []sname
	pats               []sname // patronymics: the male and female form from one father's name
	pMiddle, pDouble   float64
	pFather            float64
	maghreb            bool
}

type person struct {
	id      int
	o       *origin
	sex     string
	given   []*entry
	father  *entry // Arabic: father's name, written after the given name
	pat     int    // index in o.pats, or -1
	sur     []sname
	y, m, d int
	nat     string
	doc     string
}

type rec struct {
	Name            string `json:"name,omitempty"`
	Given           string `json:"given,omitempty"`
	Surname         string `json:"surname,omitempty"`
	Patronymic      string `json:"patronymic,omitempty"`
	DOB             string `json:"dob,omitempty"`
	Sex             string `json:"sex,omitempty"`
	Nationality     string `json:"nationality,omitempty"`
	Document        string `json:"document,omitempty"`
	DocumentCountry string `json:"document_country,omitempty"`
	Ref             string `json:"ref,omitempty"`
}

type pair struct {
	ID   string   `json:"id"`
	Tags []string `json:"tags"`
	A    rec      `json:"a"`
	B    rec      `json:"b"`

	pa, pb *person
}

// ---------------------------------------------------------------------------
// Parsing and checking the tables.
// ---------------------------------------------------------------------------

func lines(s string) []string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return out
}

func parseEntry(s string, minLat int) *entry {
	parts := strings.Split(s, "|")
	e := &entry{nat: parts[0]}
	for _, p := range parts[1:] {
		m := strings.HasPrefix(p, "*")
		e.lat = append(e.lat, strings.TrimPrefix(p, "*"))
		e.mag = append(e.mag, m)
	}
	if len(e.lat) < minLat {
		panic(fmt.Sprintf("table: %q has %d Latin writings, want at least %d", s, len(e.lat), minLat))
	}
	for _, l := range append([]string{e.nat}, e.lat...) {
		if l == "" || strings.TrimSpace(l) != l {
			panic(fmt.Sprintf("table: empty or padded writing in %q", s))
		}
	}
	return e
}

func parseEntries(s string, minLat int) []*entry {
	var out []*entry
	for _, l := range lines(s) {
		out = append(out, parseEntry(l, minLat))
	}
	return out
}

// femaleOf gives the female form of a Russian-type surname in -ов, -ев,
// -ёв, -ин, -ын: -а added in every writing (French -ine becomes -ina).
func femaleOf(e *entry) *entry {
	for _, suf := range []string{"ов", "ев", "ёв", "ин", "ын"} {
		if strings.HasSuffix(e.nat, suf) {
			f := &entry{nat: e.nat + "а", mag: e.mag}
			for _, l := range e.lat {
				if strings.HasSuffix(l, "ine") {
					l = strings.TrimSuffix(l, "e")
				}
				f.lat = append(f.lat, l+"a")
			}
			return f
		}
	}
	return nil
}

func parseSurnames(s string, minLat int, rule bool) []sname {
	var out []sname
	for _, l := range lines(s) {
		mf := strings.Split(l, ";")
		sn := sname{m: parseEntry(mf[0], minLat)}
		if len(mf) > 1 {
			sn.f = parseEntry(mf[1], minLat)
		} else if rule {
			sn.f = femaleOf(sn.m)
		}
		out = append(out, sn)
	}
	return out
}

func buildOrigins() []*origin {
	cyr := func(key, nat, male, female, sur, pats string) *origin {
		return &origin{key: key, group: "cyrillic", script: "cyrillic", nats: []string{nat},
			male: parseEntries(male, 5), female: parseEntries(female, 5),
			sur: parseSurnames(sur, 5, true), pats: parseSurnames(pats, 5, false)}
	}
	arab := func(key string, nats []string, sur string, maghreb bool) *origin {
		return &origin{key: key, group: "arabic", script: "arabic", nats: nats,
			male: parseEntries(arMale, 1), female: parseEntries(arFemale, 1),
			sur: parseSurnames(arSurnameTable(sur), 1, false), pFather: 0.7, maghreb: maghreb}
	}
	latin := func(key, group string, nats []string, male, female, sur string, pMiddle float64) *origin {
		return &origin{key: key, group: group, script: "latin", nats: nats,
			male: parseEntries(male, 0), female: parseEntries(female, 0),
			sur: parseSurnames(sur, 0, false), pMiddle: pMiddle}
	}
	os := []*origin{
		latin("german", "latin", []string{"DEU", "DEU", "DEU", "AUT", "CHE"}, deMale, deFemale, deSurnames, 0.35),
		latin("dutch", "latin", []string{"NLD", "NLD", "NLD", "BEL"}, nlMale, nlFemale, nlSurnames, 0.3),
		latin("french", "latin", []string{"FRA", "FRA", "FRA", "BEL", "CHE"}, frMale, frFemale, frSurnames, 0.25),
		latin("english", "latin", []string{"GBR", "USA", "IRL", "AUS", "CAN", "NZL"}, enMale, enFemale, enSurnames, 0.5),
		cyr("russian", "RUS", ruMale, ruFemale, ruSurnames, ruPatronymics),
		cyr("ukrainian", "UKR", uaMale, uaFemale, uaSurnames, uaPatronymics),
		cyr("belarusian", "BLR", byMale, byFemale, bySurnames, byPatronymics),
		cyr("caucasian", "RUS", caMale, caFemale, caSurnames, caPatronymics),
		{key: "greek", group: "greek", script: "greek", nats: []string{"GRC", "GRC", "GRC", "CYP"},
			male: parseEntries(grMale, 1), female: parseEntries(grFemale, 1), sur: parseSurnames(grSurnames, 1, false)},
		arab("levant", []string{"SYR", "LBN", "JOR", "PSE"}, arLevant, false),
		arab("gulf", []string{"SAU", "ARE", "KWT", "QAT", "BHR", "OMN"}, arGulf, false),
		arab("maghreb", []string{"MAR", "DZA", "TUN", "LBY"}, arMaghreb, true),
		arab("iraqi", []string{"IRQ"}, arIraq, false),
		{key: "israeli", group: "hebrew", script: "hebrew", nats: []string{"ISR"},
			male: parseEntries(heMale, 1), female: parseEntries(heFemale, 1), sur: parseSurnames(heSurnames, 1, false), pMiddle: 0.1},
		latin("turkish", "other", []string{"TUR", "TUR", "TUR", "DEU"}, trMale, trFemale, trSurnames, 0.15),
		latin("polish", "other", []string{"POL"}, plMale, plFemale, plSurnames, 0.15),
		latin("spanish", "other", []string{"ESP", "ESP", "ESP", "MEX", "ARG", "COL"}, esMale, esFemale, esSurnames, 0.1),
	}
	for _, o := range os {
		if o.key == "spanish" {
			o.pDouble = 0.85
		}
	}
	return os
}

func arSurnameTable(s string) string { return s }

// checkTables refuses a table in which two entries share a writing: two
// such entries would be one name, and a "different" pair built from them
// would be the same person.
func checkTables(os []*origin) {
	for _, o := range os {
		check := func(what string, es []*entry) {
			seen := map[string]string{}
			for _, e := range es {
				own := map[string]bool{}
				for _, w := range append([]string{e.nat}, e.lat...) {
					k := strings.ToLower(plainFold(w))
					if own[k] {
						continue
					}
					own[k] = true
					if prev, ok := seen[k]; ok {
						panic(fmt.Sprintf("%s %s: %q and %q share the writing %q", o.key, what, prev, e.nat, w))
					}
					seen[k] = e.nat
				}
				if o.script != "latin" && o.script != "cyrillic" && len(e.mag) > 0 && e.mag[0] {
					panic(fmt.Sprintf("%s: %q: the first writing must be a common one", o.key, e.nat))
				}
			}
		}
		check("given names", append(append([]*entry{}, o.male...), o.female...))
		var sm, sf []*entry
		for _, s := range o.sur {
			sm = append(sm, s.m)
			if s.f != nil {
				sf = append(sf, s.f)
			}
		}
		check("surnames", sm)
		check("female surnames", sf)
		if o.script == "cyrillic" {
			for _, e := range append(append(append([]*entry{}, o.male...), o.female...), sm...) {
				if len(e.lat) < 5 {
					panic(e.nat)
				}
			}
		}
	}
}

// ---------------------------------------------------------------------------
// Folding, for tagging the pairs only (which kind of difference there is).
// ---------------------------------------------------------------------------

var fold = map[rune]string{
	'à': "a", 'á': "a", 'â': "a", 'ä': "a", 'ã': "a", 'å': "a", 'ą': "a",
	'ç': "c", 'ć': "c", 'č': "c", 'è': "e", 'é': "e", 'ê': "e", 'ë': "e", 'ę': "e",
	'ì': "i", 'í': "i", 'î': "i", 'ï': "i", 'ı': "i", 'İ': "i", 'ł': "l", 'ñ': "n", 'ń': "n",
	'ò': "o", 'ó': "o", 'ô': "o", 'ö': "o", 'õ': "o", 'ø': "o", 'ś': "s", 'ş': "s", 'š': "s",
	'ù': "u", 'ú': "u", 'û': "u", 'ü': "u", 'ý': "y", 'ÿ': "y", 'ź': "z", 'ż': "z", 'ž': "z",
	'ğ': "g", 'ß': "ss", 'æ': "ae", 'œ': "oe",
	'À': "A", 'Á': "A", 'Â': "A", 'Ä': "A", 'Ç': "C", 'È': "E", 'É': "E", 'Ê': "E", 'Ë': "E",
	'Î': "I", 'Ï': "I", 'Ł': "L", 'Ñ': "N", 'Ó': "O", 'Ô': "O", 'Ö': "O", 'Ś': "S", 'Ş': "S",
	'Ú': "U", 'Ü': "U", 'Ź': "Z", 'Ż': "Z", 'Ğ': "G", 'Ć': "C",
}

var germanFold = map[rune]string{'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "Ae", 'Ö': "Oe", 'Ü': "Ue"}

func foldWith(s string, first map[rune]string) string {
	var b strings.Builder
	for _, r := range s {
		if f, ok := first[r]; ok {
			b.WriteString(f)
		} else if f, ok := fold[r]; ok {
			b.WriteString(f)
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func plainFold(s string) string { return foldWith(s, nil) }

func squeeze(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "'", "").Replace(strings.ToLower(s))
}

// classify names the kind of difference between two Latin writings of one
// name part.
func classify(a, b string) string {
	switch {
	case a == b:
		return ""
	case strings.EqualFold(a, b):
		return "case"
	case squeeze(a) == squeeze(b):
		return "hyphen-particle"
	}
	// Mueller and Muller are both Müller: fold ä/ae to a on both sides too.
	plainUml := strings.NewReplacer("ae", "a", "oe", "o", "ue", "u")
	fa := []string{plainFold(squeeze(a)), foldWith(squeeze(a), germanFold), plainUml.Replace(foldWith(squeeze(a), germanFold))}
	fb := []string{plainFold(squeeze(b)), foldWith(squeeze(b), germanFold), plainUml.Replace(foldWith(squeeze(b), germanFold))}
	for _, x := range fa {
		for _, y := range fb {
			if x == y {
				return "diacritics"
			}
		}
	}
	return "spelling"
}

// ---------------------------------------------------------------------------
// Generation.
// ---------------------------------------------------------------------------

type gen struct {
	r      *rand.Rand
	nextID int
	docs   map[string]bool
	refs   map[string]bool
}

func (g *gen) chance(p float64) bool   { return g.r.Float64() < p }
func (g *gen) pick(l []string) string  { return l[g.r.IntN(len(l))] }
func (g *gen) pickE(l []*entry) *entry { return l[g.r.IntN(len(l))] }
func (g *gen) digits(n int) string     { return g.from("0123456789", n) }
func (g *gen) letters(n int) string    { return g.from("ABCDEFGHIJKLMNPRSTUVWXYZ", n) }
func (g *gen) from(set string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = set[g.r.IntN(len(set))]
	}
	return string(b)
}

// docNumber makes a passport number in the shape the country uses.
func (g *gen) docNumber(nat string) string {
	for {
		var d string
		switch nat {
		case "DEU":
			d = g.from("CFGHJK", 1) + g.from("CFGHJKLMNPRTVWXYZ0123456789", 8)
		case "RUS":
			d = g.from("1234567", 1) + g.digits(8)
		case "UKR", "BLR":
			d = g.letters(2) + g.digits(6)
		case "FRA":
			d = g.digits(2) + g.letters(2) + g.digits(5)
		case "GBR", "USA", "ISR":
			d = g.from("123456789", 1) + g.digits(8)
		case "ESP":
			d = g.letters(3) + g.digits(6)
		case "TUR":
			d = "U" + g.digits(8)
		case "NLD", "BEL":
			d = g.letters(2) + g.from("ABCDEFGHJKLMNPRSTUVWXYZ0123456789", 6) + g.digits(1)
		case "AUS", "CAN", "NZL", "IRQ", "SAU", "ARE", "KWT", "QAT", "BHR", "OMN":
			d = g.letters(1) + g.digits(7)
		default:
			d = g.letters(2) + g.digits(7)
		}
		if !g.docs[d] {
			g.docs[d] = true
			return d
		}
	}
}

var epoch = time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC)
var lastDay = time.Date(2006, 12, 31, 0, 0, 0, 0, time.UTC)

func (g *gen) setDOB(p *person, year int) {
	for {
		var t time.Time
		if year == 0 {
			t = epoch.AddDate(0, 0, g.r.IntN(int(lastDay.Sub(epoch).Hours()/24)+1))
		} else {
			t = time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, g.r.IntN(365))
			if t.Year() != year {
				continue
			}
		}
		p.y, p.m, p.d = t.Year(), int(t.Month()), t.Day()
		return
	}
}

// pickGiven picks a given name; with prefer, one that has other writings.
func (g *gen) pickGiven(table []*entry, prefer bool) *entry {
	if prefer && g.chance(0.6) {
		var with []*entry
		for _, e := range table {
			if len(e.lat) > 0 {
				with = append(with, e)
			}
		}
		if len(with) > 0 {
			return g.pickE(with)
		}
	}
	return g.pickE(table)
}

func (g *gen) pickSurname(o *origin, prefer bool) sname {
	if prefer && g.chance(0.65) {
		var with []sname
		for _, s := range o.sur {
			if len(s.m.lat) > 0 {
				with = append(with, s)
			}
		}
		if len(with) > 0 {
			return with[g.r.IntN(len(with))]
		}
	}
	return o.sur[g.r.IntN(len(o.sur))]
}

func compound(e *entry) bool { return strings.ContainsAny(e.nat, " -") }

func (g *gen) newPerson(o *origin, prefer bool) *person {
	g.nextID++
	p := &person{id: g.nextID, o: o, pat: -1}
	p.sex = "M"
	if g.chance(0.5) {
		p.sex = "F"
	}
	g.newGiven(p, prefer)
	p.sur = []sname{g.pickSurname(o, prefer && o.script == "latin")}
	if o.pDouble > 0 && g.chance(o.pDouble) {
		for {
			s := g.pickSurname(o, prefer)
			if s.m != p.sur[0].m {
				p.sur = append(p.sur, s)
				break
			}
		}
	}
	if len(o.pats) > 0 {
		p.pat = g.r.IntN(len(o.pats))
	}
	if o.pFather > 0 && g.chance(o.pFather) {
		for {
			f := g.pickE(o.male)
			if f != p.given[0] {
				p.father = f
				break
			}
		}
	}
	g.setDOB(p, 0)
	p.nat = g.pick(o.nats)
	p.doc = g.docNumber(p.nat)
	return p
}

func (g *gen) newGiven(p *person, prefer bool) {
	table := p.o.male
	if p.sex == "F" {
		table = p.o.female
	}
	p.given = []*entry{g.pickGiven(table, prefer && p.o.script == "latin")}
	if p.o.pMiddle > 0 && !compound(p.given[0]) && g.chance(p.o.pMiddle) {
		for {
			e := g.pickE(table)
			if e != p.given[0] && !compound(e) {
				p.given = append(p.given, e)
				break
			}
		}
	}
}

func (g *gen) clone(p *person) *person {
	g.nextID++
	q := *p
	q.id = g.nextID
	q.given = append([]*entry(nil), p.given...)
	q.sur = append([]sname(nil), p.sur...)
	q.doc = g.docNumber(q.nat)
	return &q
}

// givenSet is every given name a person may be written with, the father's
// name included.
func givenSet(p *person) []*entry {
	s := append([]*entry(nil), p.given...)
	if p.father != nil {
		s = append(s, p.father)
	}
	return s
}

func shareGiven(a, b *person) bool {
	for _, x := range givenSet(a) {
		for _, y := range givenSet(b) {
			if x == y || x.nat == y.nat {
				return true
			}
		}
	}
	return false
}

// ---------------------------------------------------------------------------
// Writing one side.
// ---------------------------------------------------------------------------

const (
	layParts = iota
	layNat
	laySurFirst
	laySurUp
	layComma
	layUpper
	layUpSurFirst
)

type sideCfg struct {
	sys     int // -1 native script (or the home form of a Latin-script name); else the system
	mid     bool
	pat     bool
	surMode int // double surname: 0 "A B", 1 "A-B", 2 "A"
	typo    bool
	lay     int
	upParts bool
	agency  string
	dob     int
	doc     bool
	docSpc  bool
	sex     bool
	nat     bool
	alpha2  bool
	alt     bool // Latin-script name: use other writings than the owner's
	fold    bool // ... with the diacritics folded
	umlE    bool // ... ä as ae (else as a)
	pickN   func(int) int
}

// Component slots of a written name.
const (
	cGiven0 = iota
	cGiven1
	cFather
	cPat
	cSur0
	cSur1
	nComp
)

type written struct {
	comp   [nComp]string
	native bool // written in a non-Latin script
	cased  bool
}

func isASCII(s string) bool {
	for _, r := range s {
		if r >= 0x80 {
			return false
		}
	}
	return true
}

// latinForm writes a Latin-script name as the side does: as its owner
// writes it (home agency), or another writing, with every diacritic
// folded one way (Müller as Mueller or Muller, not both in one record) or
// none folded.
func latinForm(e *entry, c *sideCfg) string {
	if c.sys < 0 || !c.alt || len(e.lat) == 0 {
		return e.nat
	}
	var cands, styled []string
	for _, l := range e.lat {
		if c.fold != isASCII(l) && !(isASCII(e.nat) && !c.fold) {
			continue
		}
		cands = append(cands, l)
		if c.fold && !isASCII(e.nat) {
			want := plainFold(e.nat)
			if c.umlE {
				want = foldWith(e.nat, germanFold)
			}
			if squeeze(l) == squeeze(want) {
				styled = append(styled, l)
			}
		}
	}
	if len(styled) > 0 {
		cands = styled
	}
	if len(cands) == 0 {
		return e.nat
	}
	return cands[c.pickN(len(cands))]
}

func (g *gen) formOf(o *origin, e *entry, c *sideCfg) string {
	sys := c.sys
	switch o.script {
	case "latin":
		return latinForm(e, c)
	case "cyrillic":
		if sys < 0 {
			return e.nat
		}
		if sys < 4 {
			return e.lat[sys]
		}
		return g.pick(e.lat[4:])
	case "greek":
		if sys < 0 {
			return e.nat
		}
		if sys == 0 || len(e.lat) == 1 {
			return e.lat[0]
		}
		return g.pick(e.lat[1:])
	default:
		if sys < 0 {
			return e.nat
		}
		var maghreb, plain []string
		for i, l := range e.lat {
			if e.mag[i] {
				maghreb = append(maghreb, l)
			} else {
				plain = append(plain, l)
			}
		}
		if o.maghreb && len(maghreb) > 0 && g.chance(0.6) {
			return g.pick(maghreb)
		}
		if g.chance(0.4) {
			return plain[0]
		}
		return g.pick(plain)
	}
}

func (g *gen) write(p *person, c *sideCfg) written {
	o := p.o
	w := written{native: c.sys < 0 && o.script != "latin"}
	w.cased = !(w.native && (o.script == "arabic" || o.script == "hebrew"))
	w.comp[cGiven0] = g.formOf(o, p.given[0], c)
	if len(p.given) > 1 && c.mid {
		w.comp[cGiven1] = g.formOf(o, p.given[1], c)
	}
	if p.father != nil && c.mid {
		w.comp[cFather] = g.formOf(o, p.father, c)
	}
	if p.pat >= 0 && c.pat {
		w.comp[cPat] = g.formOf(o, o.pats[p.pat].form(p.sex), c)
	}
	w.comp[cSur0] = g.formOf(o, p.sur[0].form(p.sex), c)
	if len(p.sur) > 1 && c.surMode != 2 {
		w.comp[cSur1] = g.formOf(o, p.sur[1].form(p.sex), c)
	}
	return w
}

func isVowel(r rune) bool { return strings.ContainsRune("aeiouy", unicode.ToLower(r)) }

// typo returns the writings a clerk's slip makes of s: a doubled consonant
// made single or a single one doubled, dt/tt, a final -ov/-ev as -of/-ef,
// ie/ei swapped, y for i. Only slips that phonetic codes absorb.
func typos(s string, slavic, double bool) []string {
	r := []rune(s)
	var out []string
	add := func(t string) {
		if t != s && len([]rune(t)) >= 3 {
			out = append(out, t)
		}
	}
	for i := 0; i+1 < len(r); i++ {
		lo := unicode.ToLower(r[i])
		if r[i] == r[i+1] && !isVowel(r[i]) && unicode.IsLetter(r[i]) {
			add(string(r[:i]) + string(r[i+1:]))
		}
		if double && i > 0 && strings.ContainsRune("lnst", lo) && isVowel(r[i-1]) && isVowel(r[i+1]) && r[i-1] != r[i] {
			add(string(r[:i+1]) + string(r[i:]))
		}
		if lo == 'd' && r[i+1] == 't' {
			add(string(r[:i]) + "t" + string(r[i+1:]))
		}
		nextCons := i+2 < len(r) && !isVowel(r[i+2])
		if lo == 'e' && r[i+1] == 'i' && i > 0 && nextCons {
			add(string(r[:i]) + "ie" + string(r[i+2:]))
		}
		if lo == 'i' && r[i+1] == 'e' && i > 0 && nextCons {
			add(string(r[:i]) + "ei" + string(r[i+2:]))
		}
		if r[i] == 'y' && i > 0 && isVowel(r[i-1]) && r[i+1] != 'y' {
			add(string(r[:i]) + "i" + string(r[i+1:]))
		}
	}
	if slavic {
		for _, suf := range []string{"ov", "ev"} {
			if strings.HasSuffix(s, suf) {
				add(strings.TrimSuffix(s, "v") + "f")
			}
		}
	}
	return out
}

func (g *gen) applyTypo(w *written, slavic bool) bool {
	if w.native {
		return false
	}
	slots := []int{cSur0, cSur0, cSur0, cGiven0}
	g.r.Shuffle(len(slots), func(i, j int) { slots[i], slots[j] = slots[j], slots[i] })
	for _, s := range slots {
		words := strings.Split(w.comp[s], " ")
		k := len(words) - 1 // the name proper, not a particle before it
		if t := typos(words[k], slavic, s != cGiven0); len(t) > 0 {
			words[k] = g.pick(t)
			w.comp[s] = strings.Join(words, " ")
			return true
		}
	}
	return false
}

var tonos = strings.NewReplacer("ά", "α", "έ", "ε", "ή", "η", "ί", "ι", "ό", "ο", "ύ", "υ", "ώ", "ω", "ΐ", "ϊ", "ΰ", "ϋ",
	"Ά", "Α", "Έ", "Ε", "Ή", "Η", "Ί", "Ι", "Ό", "Ο", "Ύ", "Υ", "Ώ", "Ω")

func upper(s string, o *origin, native bool, agency string) string {
	switch {
	case native && o.script == "greek":
		return strings.ToUpper(tonos.Replace(s))
	case o.key == "turkish" && agency == "TUR":
		return strings.ToUpperSpecial(unicode.TurkishCase, s)
	}
	return strings.ToUpper(s)
}

func joinNonEmpty(sep string, parts ...string) string {
	var out []string
	for _, p := range parts {
		if p != "" {
			out = append(out, p)
		}
	}
	return strings.Join(out, sep)
}

// layout lays the parts out; it returns the record and the order class
// (0 fields, 1 given name first, 2 surname first) and case class (-1
// script without case, 0 as written, 1 surname in capitals, 2 all in
// capitals).
func layout(p *person, w written, c *sideCfg) (rec, int, int) {
	o := p.o
	up := func(s string) string { return upper(s, o, w.native, c.agency) }
	given := joinNonEmpty(" ", w.comp[cGiven0], w.comp[cGiven1], w.comp[cFather])
	pat := w.comp[cPat]
	sur := w.comp[cSur0]
	if w.comp[cSur1] != "" {
		sep := " "
		if c.surMode == 1 {
			sep = "-"
		}
		sur += sep + w.comp[cSur1]
	}
	var r rec
	order, cs := 0, 0
	switch c.lay {
	case layParts:
		if c.upParts {
			given, pat, sur = up(given), up(pat), up(sur)
			cs = 2
		}
		r.Given, r.Surname, r.Patronymic = given, sur, pat
	case layNat:
		r.Name, order = joinNonEmpty(" ", given, pat, sur), 1
	case laySurFirst:
		r.Name, order = joinNonEmpty(" ", sur, given, pat), 2
	case laySurUp:
		r.Name, order, cs = joinNonEmpty(" ", up(sur), given, pat), 2, 1
	case layComma:
		r.Name, order = sur+", "+joinNonEmpty(" ", given, pat), 2
	case layUpper:
		r.Name, order, cs = up(joinNonEmpty(" ", given, pat, sur)), 1, 2
	case layUpSurFirst:
		r.Name, order, cs = up(joinNonEmpty(" ", sur, given, pat)), 2, 2
	}
	if !w.cased {
		cs = -1
	}
	return r, order, cs
}

func (g *gen) weighted(ws ...float64) int {
	x := g.r.Float64()
	for i, w := range ws {
		if x < w {
			return i
		}
		x -= w
	}
	return len(ws) - 1
}

func (g *gen) chooseLayout(o *origin, c *sideCfg) {
	native := c.sys < 0 && o.script != "latin"
	switch {
	case native && (o.script == "arabic" || o.script == "hebrew"):
		c.lay = []int{layParts, layNat}[g.weighted(0.5, 0.5)]
	case native && o.script == "cyrillic":
		c.lay = []int{layParts, laySurFirst, layUpSurFirst, layNat}[g.weighted(0.35, 0.3, 0.15, 0.2)]
		c.upParts = g.chance(0.3)
	case native && o.script == "greek":
		c.lay = []int{layParts, layUpSurFirst, layNat}[g.weighted(0.4, 0.3, 0.3)]
		c.upParts = g.chance(0.6)
	default:
		c.lay = []int{layParts, layNat, laySurUp, layComma, layUpper, layUpSurFirst}[g.weighted(0.35, 0.2, 0.15, 0.15, 0.05, 0.1)]
		c.upParts = g.chance(0.25)
	}
}

func (g *gen) agencyFor(p *person, c *sideCfg, not string) string {
	var list []string
	o := p.o
	switch {
	case c.sys < 0:
		list = []string{p.nat}
	case o.script == "cyrillic":
		list = [][]string{agICAO, agBGN, agDE, agFR, agWest}[c.sys]
	case o.maghreb:
		list = agFrench
		if g.chance(0.4) {
			list = agWest
		}
	default:
		list = agWest
	}
	for i := 0; ; i++ {
		a := g.pick(list)
		if a != not && a != p.nat || i > 50 && a != not {
			return a
		}
		if len(list) == 1 && list[0] == not {
			list = agWest
		}
	}
}

func (g *gen) ref(agency string) string {
	for {
		r := agency + "-" + g.digits(7)
		if !g.refs[r] {
			g.refs[r] = true
			return r
		}
	}
}

const (
	dNone = iota
	dISO
	dDE
	dMonth
	dYear
	dRange
)

func dobString(g *gen, p *person, k int) string {
	switch k {
	case dISO:
		return fmt.Sprintf("%04d-%02d-%02d", p.y, p.m, p.d)
	case dDE:
		return fmt.Sprintf("%02d.%02d.%04d", p.d, p.m, p.y)
	case dMonth:
		return fmt.Sprintf("%04d-%02d", p.y, p.m)
	case dYear:
		return fmt.Sprintf("%04d", p.y)
	case dRange:
		lo := max(1950, p.y-g.r.IntN(3))
		hi := min(2006, lo+1+g.r.IntN(3))
		if hi < p.y {
			hi = p.y
		}
		if lo == hi {
			lo--
		}
		return fmt.Sprintf("%04d/%04d", lo, hi)
	}
	return ""
}

func (g *gen) full() int {
	if g.chance(0.3) {
		return dDE
	}
	return dISO
}

func (g *gen) finish(p *person, c *sideCfg, w written) (rec, int, int) {
	r, order, cs := layout(p, w, c)
	r.DOB = dobString(g, p, c.dob)
	if c.sex {
		r.Sex = p.sex
	}
	cc := func(code string) string {
		if c.alpha2 {
			return alpha2[code]
		}
		return code
	}
	if c.nat {
		r.Nationality = cc(p.nat)
	}
	if c.doc {
		r.Document = p.doc
		if c.docSpc && p.nat == "RUS" {
			r.Document = p.doc[:2] + " " + p.doc[2:]
		}
		r.DocumentCountry = cc(p.nat)
	}
	r.Ref = g.ref(c.agency)
	return r, order, cs
}

// systems picks how the two agencies write the name.
func (g *gen) systems(o *origin) (int, int) {
	var a, b int
	switch o.script {
	case "latin":
		a, b = 0, 0
		if g.chance(0.6) {
			a = -1
		}
	case "cyrillic":
		if g.chance(0.55) {
			a, b = -1, g.r.IntN(5)
		} else {
			s := g.r.Perm(5)
			a, b = s[0], s[1]
		}
	case "greek":
		switch g.weighted(0.4, 0.3, 0.3) {
		case 0:
			a, b = -1, 0
		case 1:
			a, b = -1, 1
		default:
			a, b = 0, 1
		}
	default:
		a, b = 0, 0
		if g.chance(0.45) {
			a = -1
		}
	}
	if g.chance(0.5) {
		a, b = b, a
	}
	return a, b
}

func (g *gen) commonSide(c *sideCfg) {
	c.alt = g.chance(0.75)
	c.fold = g.chance(0.7)
	c.umlE = g.chance(0.5)
	c.pickN = g.r.IntN
	c.sex = g.chance(0.5)
	c.nat = g.chance(0.6)
	c.alpha2 = g.chance(0.2)
	c.docSpc = g.chance(0.5)
}

type tagSet struct{ l []string }

func (t *tagSet) add(s ...string) {
	for _, x := range s {
		found := false
		for _, y := range t.l {
			if x == y {
				found = true
			}
		}
		if !found && x != "" {
			t.l = append(t.l, x)
		}
	}
}

func (t *tagSet) sorted(first ...string) []string {
	var rest []string
	for _, x := range t.l {
		isFirst := false
		for _, f := range first {
			isFirst = isFirst || f == x
		}
		if !isFirst {
			rest = append(rest, x)
		}
	}
	sort.Strings(rest)
	var out []string
	for _, f := range first {
		if f != "" {
			out = append(out, f)
		}
	}
	return append(out, rest...)
}

func typoRate(o *origin) float64 {
	switch o.group {
	case "latin", "other":
		return 0.15
	case "cyrillic":
		return 0.12
	case "arabic":
		return 0.1
	case "hebrew":
		return 0.08
	}
	return 0.05
}

// flat is the name of a record as one string, in the order written.
func flat(r rec) string {
	if r.Name != "" {
		return r.Name
	}
	return joinNonEmpty(" ", r.Given, r.Patronymic, r.Surname)
}

func nameEqual(a, b rec) bool {
	return a.Name == b.Name && a.Given == b.Given && a.Surname == b.Surname && a.Patronymic == b.Patronymic
}

func (g *gen) samePair(o *origin) pair {
	for {
		p := g.newPerson(o, true)
		var a, b sideCfg
		a.sys, b.sys = g.systems(o)
		tags := &tagSet{}

		// Middle names, patronymic, double surname.
		if len(p.given) > 1 || p.father != nil {
			a.mid, b.mid = true, g.chance(0.5)
			if g.chance(0.5) {
				a.mid, b.mid = b.mid, a.mid
			}
		}
		if p.pat >= 0 {
			for _, c := range []*sideCfg{&a, &b} {
				if c.sys < 0 {
					c.pat = g.chance(0.85)
				} else {
					c.pat = g.chance(0.3)
				}
			}
		}
		if len(p.sur) > 1 {
			b.surMode = 1 + g.weighted(0.4, 0.6)
			if g.chance(0.5) {
				a.surMode, b.surMode = b.surMode, a.surMode
			}
		}

		// Dates of birth.
		full := func() (int, int) { return g.full(), g.full() }
		switch g.weighted(0.41, 0.19, 0.064, 0.056, 0.04, 0.17, 0.07) {
		case 0:
			a.dob, b.dob = full()
		case 1:
			a.dob, b.dob = g.full(), dYear
		case 2:
			a.dob, b.dob = g.full(), dMonth
		case 3:
			a.dob, b.dob = g.full(), dRange
		case 4:
			a.dob, b.dob = dYear, dYear
		case 5:
			a.dob = []int{dISO, dDE, dYear}[g.weighted(0.6, 0.2, 0.2)]
		case 6:
		}
		if g.chance(0.5) {
			a.dob, b.dob = b.dob, a.dob
		}

		// Documents.
		switch g.weighted(0.15, 0.30, 0.55) {
		case 0:
			a.doc, b.doc = true, true
		case 1:
			a.doc = true
		}
		if g.chance(0.5) {
			a.doc, b.doc = b.doc, a.doc
		}
		// Sometimes the document is the one strong link: no date of birth.
		if (a.dob == dNone || b.dob == dNone) && g.chance(0.35) {
			a.doc, b.doc = true, true
		}

		g.commonSide(&a)
		g.commonSide(&b)
		g.chooseLayout(o, &a)
		g.chooseLayout(o, &b)
		a.agency = g.agencyFor(p, &a, "")
		b.agency = g.agencyFor(p, &b, a.agency)

		wa, wb := g.write(p, &a), g.write(p, &b)

		// Tags from what differs, before any slip of the pen.
		tags.add(o.group, o.key)
		if o.script != "latin" && (wa.native || wb.native) {
			tags.add("transliteration", "native-script")
		}
		caseDiff := false
		for i := 0; i < nComp; i++ {
			if wa.comp[i] == "" || wb.comp[i] == "" || wa.native || wb.native {
				continue
			}
			switch k := classify(wa.comp[i], wb.comp[i]); k {
			case "":
			case "case": // "van" and "Van": counted below, if capitals do not hide it
				caseDiff = true
			case "spelling":
				if o.script == "latin" {
					panic(fmt.Sprintf("spelling difference in a Latin-script name: %q %q", wa.comp[i], wb.comp[i]))
				}
				tags.add("transliteration", "romanization")
			default:
				tags.add(k)
			}
		}
		if (wa.comp[cGiven1] == "") != (wb.comp[cGiven1] == "") || (wa.comp[cFather] == "") != (wb.comp[cFather] == "") {
			tags.add("missing-middle")
		}
		if (wa.comp[cPat] == "") != (wb.comp[cPat] == "") {
			tags.add("patronymic")
		}
		if len(p.sur) > 1 && a.surMode != b.surMode {
			tags.add("double-surname")
		}

		if g.chance(typoRate(o)) {
			side := &wb
			if wb.native || (!wa.native && g.chance(0.5)) {
				side = &wa
			}
			if g.applyTypo(side, o.group == "cyrillic") {
				tags.add("typo")
			}
		}

		ra, oa, ca := g.finish(p, &a, wa)
		rb, ob, cb := g.finish(p, &b, wb)
		if strings.EqualFold(flat(ra), flat(rb)) {
			continue // agencies wrote the name alike, but for capitals: not a variation
		}
		if (oa != 0 && ob != 0 && oa != ob) || (ca >= 0 && cb >= 0 && ca != cb) || (caseDiff && ca != 2 && cb != 2) {
			tags.add("case-order")
		}
		if o.key == "belarusian" && (a.sys == 4 || b.sys == 4) {
			tags.add("russian-form") // the Russian form of a Belarusian name
		}
		if !hasAny(tags, nameVariations...) {
			continue // only the fields differ: no variation of the name
		}
		dobTags(tags, ra.DOB, rb.DOB)
		switch {
		case a.doc && b.doc:
			tags.add("document-both")
		case a.doc || b.doc:
			tags.add("document-one-side")
		}
		return pair{Tags: tags.sorted(o.group), A: ra, B: rb, pa: p, pb: p}
	}
}

var nameVariations = []string{"diacritics", "case-order", "hyphen-particle", "missing-middle", "patronymic",
	"double-surname", "transliteration", "typo"}

func hasAny(t *tagSet, tags ...string) bool {
	for _, x := range t.l {
		for _, y := range tags {
			if x == y {
				return true
			}
		}
	}
	return false
}

func dobKind(s string) string {
	switch {
	case s == "":
		return "none"
	case strings.Contains(s, "/"):
		return "range"
	case len(s) == 4:
		return "year"
	case len(s) == 7:
		return "month"
	}
	return "full"
}

func dobTags(t *tagSet, a, b string) {
	ka, kb := dobKind(a), dobKind(b)
	if ka == "none" || kb == "none" {
		t.add("no-dob")
		return
	}
	t.add("dob-both")
	if ka == "year" && kb == "year" {
		t.add("year-both")
		return
	}
	for _, k := range []string{ka, kb} {
		switch k {
		case "year":
			t.add("year-only")
		case "month":
			t.add("month-only")
		case "range":
			t.add("dob-range")
		}
	}
	if ka == "full" && kb == "full" && len(a) == 10 && (a[4] == '-') != (b[4] == '-') {
		t.add("dob-format")
	}
}

// differentPair writes two different people.
func (g *gen) differentPair(kind string, pickOrigin func() *origin) pair {
	tags := &tagSet{}
	var p1, p2 *person
	switch kind {
	case "random":
		p1 = g.newPerson(pickOrigin(), false)
		for {
			p2 = g.newPerson(pickOrigin(), false)
			if p2.sur[0].m.nat != p1.sur[0].m.nat && !shareGiven(p1, p2) {
				break
			}
		}
	default:
		o := pickOrigin()
		p1 = g.newPerson(o, false)
		switch kind {
		case "same-surname-year", "siblings":
			for {
				p2 = g.newPerson(o, false)
				p2.sur = p1.sur
				if !shareGiven(p1, p2) {
					break
				}
			}
			if kind == "same-surname-year" {
				for {
					g.setDOB(p2, p1.y)
					if p2.m != p1.m || p2.d != p1.d {
						break
					}
				}
			} else {
				p2.nat, p2.pat, p2.father = p1.nat, p1.pat, p1.father
				if p2.father != nil && shareGiven(p1, p2) { // the father's name is a brother's name
					p2.father = nil
				}
				for {
					y := p1.y + (1+g.r.IntN(8))*[]int{-1, 1}[g.r.IntN(2)]
					if y >= 1950 && y <= 2006 {
						g.setDOB(p2, y)
						break
					}
				}
			}
		case "namesake-diff-dob", "namesake-same-year":
			p2 = g.clone(p1)
			if p2.pat >= 0 && g.chance(0.5) {
				p2.pat = g.r.IntN(len(o.pats))
			}
			if p2.father != nil && g.chance(0.5) {
				p2.father = nil
			}
			if g.chance(0.3) {
				p2.nat = g.pick(o.nats)
				p2.doc = g.docNumber(p2.nat)
			}
			for {
				if kind == "namesake-same-year" {
					g.setDOB(p2, p1.y)
				} else {
					g.setDOB(p2, 0)
				}
				sameDay := p2.y == p1.y && p2.m == p1.m && p2.d == p1.d
				swapped := p2.y == p1.y && p2.m == p1.d && p2.d == p1.m
				if !sameDay && !swapped && (kind == "namesake-same-year" || p2.y != p1.y) {
					break
				}
			}
		}
		tags.add("hard", kind)
	}

	var a, b sideCfg
	if p1.o == p2.o {
		a.sys, b.sys = g.systems(p1.o)
	} else {
		a.sys, _ = g.systems(p1.o)
		b.sys, _ = g.systems(p2.o)
	}
	for _, c := range []*sideCfg{&a, &b} {
		c.mid = g.chance(0.7)
		c.pat = g.chance(0.5)
		c.surMode = g.weighted(0.6, 0.15, 0.25)
		g.commonSide(c)
	}
	switch kind {
	case "namesake-diff-dob", "namesake-same-year":
		a.dob, b.dob = g.full(), g.full()
	case "same-surname-year", "siblings":
		pick := func() int { return []int{g.full(), dYear, dMonth}[g.weighted(0.75, 0.15, 0.1)] }
		a.dob, b.dob = pick(), pick()
	default:
		any := func() int { return []int{g.full(), dYear, dMonth, dRange}[g.weighted(0.75, 0.15, 0.05, 0.05)] }
		if g.chance(0.65) {
			a.dob, b.dob = any(), any()
		} else if g.chance(0.7) {
			a.dob = any()
		}
		if g.chance(0.5) {
			a.dob, b.dob = b.dob, a.dob
		}
	}
	switch g.weighted(0.08, 0.25, 0.67) {
	case 0:
		a.doc, b.doc = true, true
	case 1:
		a.doc = g.chance(0.5)
		b.doc = !a.doc
	}
	g.chooseLayout(p1.o, &a)
	g.chooseLayout(p2.o, &b)
	a.agency = g.agencyFor(p1, &a, "")
	b.agency = g.agencyFor(p2, &b, a.agency)
	wa, wb := g.write(p1, &a), g.write(p2, &b)
	if g.chance(0.05) {
		g.applyTypo(&wa, p1.o.group == "cyrillic")
	}
	ra, _, _ := g.finish(p1, &a, wa)
	rb, _, _ := g.finish(p2, &b, wb)
	tags.add(p1.o.group, p2.o.group)
	if wa.native || wb.native {
		tags.add("native-script")
	}
	dobTags(tags, ra.DOB, rb.DOB)
	lead := []string{"random"}
	if kind != "random" {
		lead = []string{"hard", kind}
	}
	tags.add(lead...)
	return pair{Tags: tags.sorted(lead...), A: ra, B: rb, pa: p1, pb: p2}
}

// ---------------------------------------------------------------------------
// Checks and output.
// ---------------------------------------------------------------------------

func validDOB(s string) bool {
	inRange := func(y int) bool { return y >= 1950 && y <= 2006 }
	for _, layout := range []string{"2006-01-02", "02.01.2006", "2006-01", "2006"} {
		if len(s) != len(layout) {
			continue
		}
		if t, err := time.Parse(layout, s); err == nil && t.Format(layout) == s {
			return inRange(t.Year())
		}
	}
	var lo, hi int
	if n, err := fmt.Sscanf(s, "%04d/%04d", &lo, &hi); err == nil && n == 2 && len(s) == 9 {
		return inRange(lo) && inRange(hi) && lo < hi
	}
	return false
}

func identity(p *person) string {
	var b strings.Builder
	b.WriteString(p.o.key)
	for _, e := range p.given {
		b.WriteString("|" + e.nat)
	}
	for _, s := range p.sur {
		b.WriteString("|" + s.m.nat)
	}
	return b.String()
}

func check(same, diff []pair) {
	fail := func(f string, a ...any) { panic(fmt.Sprintf("check: "+f, a...)) }
	seen := map[string]string{}
	all := append(append([]pair(nil), same...), diff...)
	for _, p := range all {
		for _, r := range []rec{p.A, p.B} {
			if r.Name == "" && r.Given == "" && r.Surname == "" {
				fail("%s: a record without a name", p.ID)
			}
			if r.DOB != "" && !validDOB(r.DOB) {
				fail("%s: bad date of birth %q", p.ID, r.DOB)
			}
			if (r.Document == "") != (r.DocumentCountry == "") {
				fail("%s: document without its country", p.ID)
			}
		}
		ka, kb := p.A, p.B
		ka.Ref, kb.Ref = "", ""
		ja, _ := json.Marshal(ka)
		jb, _ := json.Marshal(kb)
		k := string(ja) + "\n" + string(jb)
		if string(jb) < string(ja) {
			k = string(jb) + "\n" + string(ja)
		}
		if prev, ok := seen[k]; ok {
			fail("%s and %s are the same pair", prev, p.ID)
		}
		seen[k] = p.ID
		if len(p.Tags) == 0 {
			fail("%s: no tags", p.ID)
		}
	}
	for _, p := range same {
		if p.pa != p.pb {
			fail("%s: a same pair of two people", p.ID)
		}
		if strings.EqualFold(flat(p.A), flat(p.B)) {
			fail("%s: a same pair written alike", p.ID)
		}
		if p.A.Ref[:3] == p.B.Ref[:3] {
			fail("%s: both records from one country's agency", p.ID)
		}
	}
	for _, p := range diff {
		a, b := p.pa, p.pb
		if a == b || a.id == b.id {
			fail("%s: a different pair of one person", p.ID)
		}
		if identity(a) == identity(b) {
			// Namesakes: only a full date of birth on both sides tells them apart.
			if dobKind(p.A.DOB) != "full" || dobKind(p.B.DOB) != "full" {
				fail("%s: namesakes without full dates of birth", p.ID)
			}
			if a.y == b.y && a.m == b.m && a.d == b.d {
				fail("%s: namesakes born the same day", p.ID)
			}
		}
		if a.doc == b.doc {
			fail("%s: two people with one document", p.ID)
		}
	}
}

func count(ps []pair) map[string]int {
	c := map[string]int{}
	for _, p := range ps {
		for _, t := range p.Tags {
			c[t]++
		}
	}
	return c
}

func need(c map[string]int, tag string, min int) {
	if c[tag] < min {
		panic(fmt.Sprintf("check: %d pairs tagged %q, want at least %d", c[tag], tag, min))
	}
}

func printCounts(title string, n int, c map[string]int) {
	fmt.Printf("%s: %d pairs\n", title, n)
	var keys []string
	for k := range c {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if c[keys[i]] != c[keys[j]] {
			return c[keys[i]] > c[keys[j]]
		}
		return keys[i] < keys[j]
	})
	for _, k := range keys {
		fmt.Printf("  %-22s %5d  %5.1f%%\n", k, c[k], 100*float64(c[k])/float64(n))
	}
}

const note = "Labelled pairs of person records for evaluating fedmatch's person matching (issue 9). " +
	"\"same\": one person written by agencies of two countries (scripts, romanizations, diacritics, order, " +
	"particles, missing middle names, patronymics, typos, partial dates of birth, documents). " +
	"\"different\": two different people, with hard negatives (same surname and birth year, namesakes, siblings). " +
	"Synthetic: made by gen_corpus.go from hand-written name tables; the people are invented. See README.md."

func writeJSON(same, diff []pair) []byte {
	var buf bytes.Buffer
	enc := func(v any) []byte {
		var b bytes.Buffer
		e := json.NewEncoder(&b)
		e.SetEscapeHTML(false)
		if err := e.Encode(v); err != nil {
			panic(err)
		}
		return bytes.TrimRight(b.Bytes(), "\n")
	}
	buf.WriteString("{\"version\": 1,\n \"note\": ")
	buf.Write(enc(note))
	for _, part := range []struct {
		name  string
		pairs []pair
	}{{"same", same}, {"different", diff}} {
		fmt.Fprintf(&buf, ",\n %q: [\n", part.name)
		for i, p := range part.pairs {
			buf.WriteString("  ")
			buf.Write(enc(p))
			if i < len(part.pairs)-1 {
				buf.WriteString(",")
			}
			buf.WriteString("\n")
		}
		buf.WriteString(" ]")
	}
	buf.WriteString("\n}\n")
	return buf.Bytes()
}

func main() {
	g := &gen{r: rand.New(rand.NewPCG(seedHi, seedLo)), docs: map[string]bool{}, refs: map[string]bool{}}
	origins := buildOrigins()
	checkTables(origins)
	byKey := map[string]*origin{}
	for _, o := range origins {
		byKey[o.key] = o
	}

	// Same pairs: 25% Latin, 25% Cyrillic, 10% Greek, 20% Arabic, 10%
	// Hebrew, 10% other (Turkish, Polish, Spanish).
	quota := []struct {
		key string
		n   int
	}{
		{"german", 30}, {"dutch", 25}, {"french", 25}, {"english", 25},
		{"russian", 45}, {"ukrainian", 25}, {"belarusian", 15}, {"caucasian", 20},
		{"greek", 42},
		{"levant", 21}, {"gulf", 21}, {"maghreb", 21}, {"iraqi", 21},
		{"israeli", 42},
		{"turkish", 14}, {"polish", 14}, {"spanish", 14},
	}
	var same []pair
	total := 0
	for _, q := range quota {
		for i := 0; i < q.n; i++ {
			same = append(same, g.samePair(byKey[q.key]))
		}
		total += q.n
	}
	pickOrigin := func() *origin {
		x := g.r.IntN(total)
		for _, q := range quota {
			if x < q.n {
				return byKey[q.key]
			}
			x -= q.n
		}
		panic("unreachable")
	}
	var diff []pair
	for _, k := range []struct {
		kind string
		n    int
	}{
		{"same-surname-year", nHardSurnameYear}, {"namesake-diff-dob", nHardNamesakeDOB},
		{"namesake-same-year", nHardNamesakeYr}, {"siblings", nHardSiblings}, {"random", nRandom},
	} {
		for i := 0; i < k.n; i++ {
			diff = append(diff, g.differentPair(k.kind, pickOrigin))
		}
	}
	g.r.Shuffle(len(same), func(i, j int) { same[i], same[j] = same[j], same[i] })
	g.r.Shuffle(len(diff), func(i, j int) { diff[i], diff[j] = diff[j], diff[i] })
	for i := range same {
		same[i].ID = fmt.Sprintf("s%04d", i+1)
		if g.chance(0.5) { // which side comes first carries no meaning
			same[i].A, same[i].B = same[i].B, same[i].A
		}
	}
	for i := range diff {
		diff[i].ID = fmt.Sprintf("d%04d", i+1)
	}

	check(same, diff)
	cs, cd := count(same), count(diff)
	if len(same) < 300 || len(diff) < 3000 {
		panic("check: too few pairs")
	}
	need(cd, "hard", 1000)
	for _, t := range []string{"diacritics", "case-order", "hyphen-particle", "missing-middle", "transliteration",
		"native-script", "romanization", "year-only", "typo", "document-one-side", "document-both",
		"cyrillic", "greek", "arabic", "hebrew", "latin", "other", "patronymic", "double-surname"} {
		need(cs, t, 10)
	}
	for _, t := range []string{"same-surname-year", "namesake-diff-dob", "namesake-same-year", "siblings"} {
		need(cd, t, 250)
	}
	if f := float64(cs["dob-both"]) / float64(len(same)); f < 0.75 || f > 0.85 {
		panic(fmt.Sprintf("check: %.2f of same pairs have a date of birth on both sides", f))
	}
	if f := float64(cd["dob-both"]) / float64(len(diff)); f < 0.75 || f > 0.85 {
		panic(fmt.Sprintf("check: %.2f of different pairs have a date of birth on both sides", f))
	}

	out := writeJSON(same, diff)
	if err := os.WriteFile(outPath, out, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err, "(run from the repository root)")
		os.Exit(1)
	}
	printCounts("same", len(same), cs)
	printCounts("different", len(diff), cd)
	fmt.Printf("wrote %s: %d bytes\n", outPath, len(out))
}
